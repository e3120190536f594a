// rlforge.VectorEnv: rlforge's threaded VectorEnv with Gymnasium 1.x's vector API and its
// same-step autoreset (AutoresetMode.SAME_STEP).
//
// The C++ vector env already autoresets in the same step: a finished env's row of observations()
// holds the next episode's first observation and its row of final_observations() the last one.
// step() maps that onto Gymnasium's info keys: `final_obs` (an object array, None where no
// episode ended), `final_info` (each ended env's step info: empty dicts, so `{}`), and their
// masks `_final_obs` and `_final_info`, exactly as SyncVectorEnv's _add_info builds them.
//
// Outputs are copies of the vector env's batch buffers (one memcpy per array), never views: the
// buffers are overwritten by the next step, and a view that silently changes under the caller is
// worse than the copy (16 LunarLander observations are 512 bytes).
#include <cstring>

#include "bindings.h"
#include "rlforge/envs/vector_env.h"
#include "rlforge/render/offscreen_canvas.h"

namespace rlforge::python {

namespace {

const py::object& numpy_full() {
  static const py::object& full = *new py::object(py::module_::import("numpy").attr("full"));
  return full;
}

}  // namespace

class PyVectorEnv {
 public:
  PyVectorEnv(const std::string& id, int64_t num_envs, int64_t threads, const py::dict& options,
              py::handle render_mode, py::handle wrappers, py::handle randomize, py::handle curriculum)
      : render_mode_(checked_render_mode(render_mode, id)) {
    if (num_envs < 1 || num_envs > (1 << 20)) {
      throw EnvError(id + ": num_envs must be in [1, 1048576], got " + std::to_string(num_envs));
    }
    if (threads < 1 || threads > 1024) {
      throw EnvError(id + ": threads must be in [1, 1024], got " + std::to_string(threads));
    }
    VectorEnvConfig config = env_config_from_python(id, options, wrappers, randomize);
    config.curriculum.from = curriculum_from_python(id, curriculum);
    if (!config.curriculum.empty() && config.randomize.empty()) {
      throw EnvError(id + ": curriculum needs randomize: it starts randomised options at the values given");
    }
    config.num_envs = static_cast<int>(num_envs);
    config.threads = static_cast<int>(threads);
    vec_ = std::make_unique<VectorEnv>(config);
    const EnvSpec& spec = vec_->spec();
    spec_ = make_spec(spec, options);
    num_envs_ = num_envs;
    single_observation_space_ = make_py_space(spec.observation_space);
    single_action_space_ = make_py_space(spec.action_space);
    observation_space_ = make_py_space(spec.observation_space, num_envs);
    action_space_ = make_py_space(spec.action_space, num_envs);
    obs_dtype_ = numpy_dtype(spec.observation_space.dtype());
    single_obs_shape_.assign(spec.observation_space.shape().begin(), spec.observation_space.shape().end());
    batch_obs_shape_ = single_obs_shape_;
    batch_obs_shape_.insert(batch_obs_shape_.begin(), num_envs);
  }

  // seed: None, an int (env i gets seed + i, as Gymnasium) or a list of num_envs ints or Nones.
  // The C++ vector env reseeds every env at reset, so an unseeded reset draws fresh seeds from a
  // generator of this object (seeded by the last int seed, else by the OS): reproducible after a
  // seeded reset, as Gymnasium's is, though not the same draws as Gymnasium's continued ones.
  py::tuple reset(py::handle seed, py::handle options) {
    if (!options.is_none() && !(PyDict_Check(options.ptr()) && PyDict_Size(options.ptr()) == 0)) {
      throw EnvError(spec_.id + ": reset options " + py::repr(options).cast<std::string>() +
                     " are not supported; rlforge envs take their settings as make_vec() options");
    }
    const std::string what = spec_.id + ": reset";
    std::vector<uint64_t> seeds(static_cast<std::size_t>(num_envs_));
    if (seed.is_none()) {
      for (auto& s : seeds) s = stream().next_u64();
    } else if (PyList_Check(seed.ptr()) || PyTuple_Check(seed.ptr())) {
      const auto list = py::reinterpret_borrow<py::sequence>(seed);
      if (static_cast<int64_t>(list.size()) != num_envs_) {
        throw EnvError(what + ": " + std::to_string(list.size()) + " seeds for " + std::to_string(num_envs_) +
                       " envs; give one per env, a single int or None");
      }
      for (std::size_t i = 0; i < seeds.size(); ++i) {
        const py::object item = list[i];
        seeds[i] = item.is_none() ? stream().next_u64() : seed_from_python(item, what.c_str());
      }
    } else {
      const uint64_t base = seed_from_python(seed, what.c_str());
      for (std::size_t i = 0; i < seeds.size(); ++i) seeds[i] = base + i;
      stream_.seed_with(base);
      stream_ready_ = true;
    }
    {
      Busy busy(*this);
      py::gil_scoped_release release;
      vec_->reset(seeds);
    }
    has_reset_ = true;
    return py::make_tuple(observations(), py::dict());
  }

  py::tuple step(py::handle actions) {
    const py::array array = actions_array(actions);
    {
      Busy busy(*this);
      py::gil_scoped_release release;
      vec_->step(ActionRef{array.data(), vec_->spec().action_space.dtype(), static_cast<std::size_t>(array.size())});
    }
    const auto n = static_cast<std::size_t>(num_envs_);
    py::array rewards = new_array(py::dtype::of<double>(), {num_envs_});
    py::array terminated = new_array(py::dtype::of<bool>(), {num_envs_});
    py::array truncated = new_array(py::dtype::of<bool>(), {num_envs_});
    auto* r = static_cast<double*>(rewards.mutable_data());
    for (std::size_t i = 0; i < n; ++i) r[i] = vec_->rewards()[i];
    // NumPy's bool is one byte holding 0 or 1, as the vector env's flags are.
    std::memcpy(terminated.mutable_data(), vec_->terminated(), n);
    std::memcpy(truncated.mutable_data(), vec_->truncated(), n);
    return py::make_tuple(observations(), rewards, terminated, truncated, step_info());
  }

  py::object render() {
    if (!render_mode_) {
      PyErr_WarnEx(PyExc_UserWarning,
                   "You are calling render method without specifying any render mode. You can specify "
                   "the render_mode at initialization, e.g. rlforge.make_vec(\"ID\", render_mode=\"rgb_array\")",
                   1);
      return py::none();
    }
    if (!has_reset_) throw EnvError(spec_.id + ": render() called before reset(); call reset() first");
    if (!canvas_) {
      const RenderHints hints = vec_->env(0).render_hints();
      canvas_ = std::make_unique<OffscreenCanvas>(hints.width, hints.height);
    }
    // SyncVectorEnv.render: a tuple of every env's frame.
    py::tuple frames(static_cast<std::size_t>(num_envs_));
    for (int64_t i = 0; i < num_envs_; ++i) {
      vec_->env(static_cast<int>(i)).render(*canvas_);
      frames[static_cast<std::size_t>(i)] = render_frame(*canvas_);
    }
    return std::move(frames);
  }

  void close() { canvas_.reset(); }

  py::dict metadata() const {
    py::dict out;
    out["autoreset_mode"] = py::module_::import("rlforge").attr("AutoresetMode").attr("SAME_STEP");
    out["render_modes"] = py::make_tuple("rgb_array");
    return out;
  }

  int64_t num_envs() const { return num_envs_; }
  int threads() const { return vec_->threads(); }
  const PyEnvSpec& spec() const { return spec_; }
  const std::shared_ptr<PySpace>& single_observation_space() const { return single_observation_space_; }
  const std::shared_ptr<PySpace>& single_action_space() const { return single_action_space_; }
  const std::shared_ptr<PySpace>& observation_space() const { return observation_space_; }
  const std::shared_ptr<PySpace>& action_space() const { return action_space_; }
  const std::optional<std::string>& render_mode() const { return render_mode_; }

  void set_randomize_reach(double reach) {
    if (!(reach >= 0.0 && reach <= 1.0)) {
      throw EnvError(spec_.id + ": the reach must be in [0, 1], got " + py::repr(py::float_(reach)).cast<std::string>());
    }
    const Busy busy(*this);
    vec_->set_randomize_reach(reach);
  }

 private:
  // While the GIL is released another Python thread could enter this object; the vector env is
  // not reentrant, so that is refused instead of racing.
  struct Busy {
    explicit Busy(PyVectorEnv& env) : env_(env) {
      if (env_.busy_) throw EnvError(env_.spec_.id + ": vector env used from two threads at once");
      env_.busy_ = true;
    }
    ~Busy() { env_.busy_ = false; }
    PyVectorEnv& env_;
  };

  NumpyGenerator& stream() {
    if (!stream_ready_) {
      stream_.seed_with(entropy_seed());
      stream_ready_ = true;
    }
    return stream_;
  }

  // The batch of actions as one contiguous array of the action space's dtype, num_envs long
  // along the first axis. Integer arrays only for a Discrete space (a float is not silently
  // truncated); values are checked by the vector env before any env steps.
  py::array actions_array(py::handle actions) const {
    const Space& space = vec_->spec().action_space;
    const auto bad = [&](const std::string& why) {
      return EnvError(spec_.id + ": actions " + py::repr(actions).cast<std::string>() + " " + why +
                      "; expected " + std::to_string(num_envs_) + " actions of " + space.describe());
    };
    py::array array;
    if (space.is_discrete()) {
      const py::array raw = py::array::ensure(actions);
      if (!raw) throw bad("are not an array");
      const char kind = raw.dtype().kind();
      if (kind != 'i' && kind != 'u') throw bad("are not integers (dtype " + py::str(raw.dtype()).cast<std::string>() + ")");
      array = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(raw);
    } else if (space.dtype() == DType::UInt8) {
      array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(actions);
    } else {
      array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(actions);
    }
    if (!array) throw bad("are not an array of numbers");
    const auto expected = static_cast<py::ssize_t>(space.size()) * num_envs_;
    if (array.ndim() < 1 || array.shape(0) != num_envs_ || array.size() != expected) {
      std::string shape;
      for (py::ssize_t i = 0; i < array.ndim(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape(i));
      throw bad("have shape (" + shape + (array.ndim() == 1 ? ",)" : ")"));
    }
    return array;
  }

  py::array observations() const {
    py::array out = new_array(obs_dtype_, batch_obs_shape_);
    // observation_bytes() is one env's row.
    std::memcpy(out.mutable_data(), vec_->observations(), vec_->observation_bytes() * static_cast<std::size_t>(num_envs_));
    return out;
  }

  // Gymnasium's SAME_STEP info: empty unless an episode ended in this step.
  py::dict step_info() const {
    py::dict info;
    const auto n = static_cast<std::size_t>(num_envs_);
    std::vector<std::size_t> ended;
    for (std::size_t i = 0; i < n; ++i) {
      if (vec_->terminated()[i] || vec_->truncated()[i]) ended.push_back(i);
    }
    if (ended.empty()) return info;
    const Space& space = vec_->spec().observation_space;
    const std::size_t row_bytes = space.byte_size();
    const auto* final_rows = static_cast<const unsigned char*>(vec_->final_observations());
    py::array final_obs;
    if (space.is_discrete()) {
      // _add_info makes an int array for int observations.
      final_obs = new_array(py::dtype::of<int64_t>(), {num_envs_});
      std::memset(final_obs.mutable_data(), 0, n * sizeof(int64_t));
      for (const std::size_t i : ended) std::memcpy(static_cast<int64_t*>(final_obs.mutable_data()) + i, final_rows + i * row_bytes, sizeof(int64_t));
    } else {
      final_obs = numpy_full()(num_envs_, py::none(), py::arg("dtype") = py::dtype("O"));
      auto** slots = static_cast<PyObject**>(final_obs.mutable_data());
      for (const std::size_t i : ended) {
        py::array row = new_array(obs_dtype_, single_obs_shape_);
        std::memcpy(row.mutable_data(), final_rows + i * row_bytes, row_bytes);
        Py_DECREF(slots[i]);  // the None numpy.full put there
        slots[i] = row.release().ptr();
      }
    }
    const auto mask = [&] {
      py::array m = new_array(py::dtype::of<bool>(), {num_envs_});
      auto* data = static_cast<bool*>(m.mutable_data());
      std::fill(data, data + n, false);
      for (const std::size_t i : ended) data[i] = true;
      return m;
    };
    info["final_obs"] = final_obs;
    info["_final_obs"] = mask();
    info["final_info"] = py::dict();
    info["_final_info"] = mask();
    return info;
  }

  std::optional<std::string> render_mode_;
  std::unique_ptr<VectorEnv> vec_;
  PyEnvSpec spec_;
  int64_t num_envs_ = 0;
  std::shared_ptr<PySpace> single_observation_space_, single_action_space_, observation_space_, action_space_;
  py::dtype obs_dtype_;
  std::vector<py::ssize_t> single_obs_shape_, batch_obs_shape_;
  NumpyGenerator stream_;
  bool stream_ready_ = false;
  bool busy_ = false;
  bool has_reset_ = false;
  std::unique_ptr<OffscreenCanvas> canvas_;
};

void bind_vector_env(py::module_& m) {
  py::class_<PyVectorEnv>(m, "VectorEnv",
                          "num_envs rlforge envs stepped together on threads, with Gymnasium 1.x's vector "
                          "API and same-step autoreset; made by rlforge.make_vec()")
      .def(py::init<const std::string&, int64_t, int64_t, const py::dict&, py::handle, py::handle, py::handle, py::handle>(),
           py::arg("id"), py::arg("num_envs") = 1, py::arg("threads") = 1, py::arg("options") = py::dict(),
           py::arg("render_mode") = py::none(), py::arg("wrappers") = py::none(), py::arg("randomize") = py::none(),
           py::arg("curriculum") = py::none())
      .def("set_randomize_reach", &PyVectorEnv::set_randomize_reach, py::arg("reach"),
           "set_randomize_reach(reach): the share in [0, 1] of each curriculum range that episodes starting from now "
           "on draw from (1, the whole ranges, until set)")
      .def("reset", &PyVectorEnv::reset, py::kw_only(), py::arg("seed") = py::none(),
           py::arg("options") = py::none(), "reset(*, seed=None, options=None) -> (obs, info)")
      .def("step", &PyVectorEnv::step, py::arg("actions"),
           "step(actions) -> (obs, rewards, terminations, truncations, info)")
      .def("render", &PyVectorEnv::render)
      .def("close", &PyVectorEnv::close)
      .def_property_readonly("num_envs", &PyVectorEnv::num_envs)
      .def_property_readonly("threads", &PyVectorEnv::threads)
      .def_property_readonly("spec", &PyVectorEnv::spec)
      .def_property_readonly("metadata", &PyVectorEnv::metadata)
      .def_property_readonly("render_mode", &PyVectorEnv::render_mode)
      .def_property_readonly("single_observation_space", &PyVectorEnv::single_observation_space)
      .def_property_readonly("single_action_space", &PyVectorEnv::single_action_space)
      .def_property_readonly("observation_space", &PyVectorEnv::observation_space)
      .def_property_readonly("action_space", &PyVectorEnv::action_space)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyVectorEnv& self, py::args) {
        self.close();
        return false;
      })
      .def("__repr__", [](const PyVectorEnv& self) {
        return "<rlforge.VectorEnv " + self.spec().id + " x " + std::to_string(self.num_envs()) + ">";
      });
}

}  // namespace rlforge::python
