// rlforge.Env: one env as gymnasium.make returns it (the registry's TimeLimit included).
//
// step() is the hot path of a Python loop: it parses the action without a generic conversion
// layer, writes the observation straight into a fresh NumPy array and builds the 5-tuple with
// CPython calls. The GIL stays held: a single env's step is shorter than releasing and taking it
// back (the vector env releases it).
#include <cstring>

#include "bindings.h"
#include "rlforge/envs/registry.h"
#include "rlforge/render/offscreen_canvas.h"

namespace rlforge::python {

namespace {

std::vector<py::ssize_t> shape_of(const Space& space) {
  return std::vector<py::ssize_t>(space.shape().begin(), space.shape().end());
}

}  // namespace

Options options_from_python(const py::dict& options, const std::string& id) {
  static const py::object& numpy_floating = *new py::object(py::module_::import("numpy").attr("floating"));
  static const py::object& numpy_bool = *new py::object(py::module_::import("numpy").attr("bool_"));
  Options out;
  for (const auto& [key, value] : options) {
    const std::string name = py::str(key).cast<std::string>();
    if (PyBool_Check(value.ptr()) || py::isinstance(value, numpy_bool)) {
      out.set(name, PyObject_IsTrue(value.ptr()) == 1);
    } else if (const std::optional<int64_t> i = integer_from_python(value)) {
      out.set(name, *i);
    } else if (PyFloat_Check(value.ptr()) || py::isinstance(value, numpy_floating)) {
      out.set(name, value.cast<double>());
    } else if (PyUnicode_Check(value.ptr())) {
      out.set(name, value.cast<std::string>());
    } else {
      throw EnvError("env '" + id + "': option '" + name + "' = " + py::repr(value).cast<std::string>() +
                     " is of type " + py::str(py::type::of(value).attr("__name__")).cast<std::string>() +
                     "; options take a bool, an int, a float or a str");
    }
  }
  return out;
}

namespace {

WrapperSpec wrapper_from_python(py::handle item, const std::string& id, std::size_t index) {
  const std::string what = id + ": wrappers[" + std::to_string(index) + "]";
  auto name_of = [&what](py::handle name) {
    if (!PyUnicode_Check(name.ptr())) {
      throw EnvError(what + ": the wrapper's name is " + py::repr(name).cast<std::string>() + "; expected a str");
    }
    return name.cast<std::string>();
  };
  auto options_of = [&what](py::handle options) {
    if (!PyDict_Check(options.ptr())) {
      throw EnvError(what + ": the wrapper's options are " + py::repr(options).cast<std::string>() +
                     "; expected a dict");
    }
    return options_from_python(py::reinterpret_borrow<py::dict>(options), what);
  };
  if (PyUnicode_Check(item.ptr())) return WrapperSpec{item.cast<std::string>(), {}};
  if (PyDict_Check(item.ptr())) {
    const auto d = py::reinterpret_borrow<py::dict>(item);
    for (const auto& [key, value] : d) {
      const std::string k = py::str(key).cast<std::string>();
      if (k != "name" && k != "options") throw EnvError(what + ": unknown key '" + k + "'; expected name and options");
    }
    if (!d.contains("name")) throw EnvError(what + ": no 'name'");
    return WrapperSpec{name_of(d["name"]), d.contains("options") ? options_of(d["options"]) : Options{}};
  }
  if ((PyTuple_Check(item.ptr()) || PyList_Check(item.ptr())) && py::len(item) == 2) {
    const auto pair = py::reinterpret_borrow<py::sequence>(item);
    return WrapperSpec{name_of(pair[0]), options_of(pair[1])};
  }
  throw EnvError(what + " is " + py::repr(item).cast<std::string>() +
                 "; expected a name, a (name, {options}) pair or {\"name\": ..., \"options\": {...}}");
}

}  // namespace

VectorEnvConfig env_config_from_python(const std::string& id, const py::dict& options, py::handle wrappers,
                                       py::handle randomize) {
  VectorEnvConfig config;
  config.id = id;
  config.options = options_from_python(options, id);
  if (!wrappers.is_none()) {
    if (!PyList_Check(wrappers.ptr()) && !PyTuple_Check(wrappers.ptr())) {
      throw EnvError(id + ": wrappers is " + py::repr(wrappers).cast<std::string>() + "; expected a list");
    }
    const auto list = py::reinterpret_borrow<py::sequence>(wrappers);
    for (std::size_t i = 0; i < list.size(); ++i) config.wrappers.push_back(wrapper_from_python(list[i], id, i));
  }
  if (!randomize.is_none()) {
    if (!PyDict_Check(randomize.ptr())) {
      throw EnvError(id + ": randomize is " + py::repr(randomize).cast<std::string>() +
                     "; expected a dict such as {\"gravity\": \"uniform:-12:-4\"}");
    }
    for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(randomize)) {
      const std::string option = py::str(key).cast<std::string>();
      if (!PyUnicode_Check(value.ptr())) {
        throw EnvError(id + ": randomize['" + option + "'] is " + py::repr(value).cast<std::string>() +
                       "; expected a str such as \"uniform:LOW:HIGH\"");
      }
      config.randomize.push_back(OptionDistribution::parse(option, value.cast<std::string>()));
    }
  }
  return config;
}

std::map<std::string, double> curriculum_from_python(const std::string& id, py::handle curriculum) {
  std::map<std::string, double> from;
  if (curriculum.is_none()) return from;
  if (!PyDict_Check(curriculum.ptr())) {
    throw EnvError(id + ": curriculum is " + py::repr(curriculum).cast<std::string>() +
                   "; expected a dict of start values such as {\"wind_power\": 20.0}");
  }
  for (const auto& [key, value] : py::reinterpret_borrow<py::dict>(curriculum)) {
    const std::string option = py::str(key).cast<std::string>();
    // bool is an int to Python; a start value is a number.
    if (PyBool_Check(value.ptr()) || !(PyFloat_Check(value.ptr()) || PyLong_Check(value.ptr()))) {
      throw EnvError(id + ": curriculum['" + option + "'] is " + py::repr(value).cast<std::string>() + "; expected a number");
    }
    from[option] = value.cast<double>();
  }
  return from;
}

PyEnvSpec make_spec(const EnvSpec& spec, const py::dict& options) {
  PyEnvSpec out;
  out.id = spec.id;
  if (spec.max_episode_steps > 0) out.max_episode_steps = spec.max_episode_steps;
  out.reward_threshold = spec.reward_threshold;
  out.kwargs = py::dict(options);  // a copy: the caller's dict may change later
  return out;
}

std::optional<std::string> checked_render_mode(py::handle render_mode, const std::string& id) {
  if (render_mode.is_none()) return std::nullopt;
  if (PyUnicode_Check(render_mode.ptr()) && render_mode.cast<std::string>() == "rgb_array") {
    return std::string("rgb_array");
  }
  throw EnvError(id + ": render_mode " + py::repr(render_mode).cast<std::string>() +
                 " is not offered; rlforge renders 'rgb_array' frames (None: no rendering; a window: "
                 "the rlforge play command)");
}

class PyEnv {
 public:
  PyEnv(const std::string& id, const py::dict& options, py::handle render_mode, py::handle wrappers,
        py::handle randomize)
      : render_mode_(checked_render_mode(render_mode, id)),
        env_(make_configured_env(env_config_from_python(id, options, wrappers, randomize))),
        spec_(make_spec(env_->spec(), options)),
        observation_space_(make_py_space(env_->spec().observation_space)),
        action_space_(make_py_space(env_->spec().action_space)),
        obs_dtype_(numpy_dtype(env_->spec().observation_space.dtype())),
        obs_shape_(shape_of(env_->spec().observation_space)),
        discrete_observation_(env_->spec().observation_space.is_discrete()) {}

  py::tuple reset(py::handle seed, py::handle options) {
    check_reset_options(options);
    std::optional<uint64_t> s;
    if (!seed.is_none()) s = seed_from_python(seed, (spec_.id + ": reset").c_str());
    py::object obs = observe([&](void* out) { env_->reset(s, out); });
    has_reset_ = true;
    return py::make_tuple(std::move(obs), py::dict());
  }

  py::tuple step(py::handle action) {
    py::object converted;  // keeps a converted action array alive during the step
    const ActionRef ref = action_ref(action, converted);
    StepResult r;
    py::object obs = observe([&](void* out) { r = env_->step(ref, out); });
    PyObject* result = PyTuple_New(5);
    if (result == nullptr) throw py::error_already_set();
    PyTuple_SET_ITEM(result, 0, obs.release().ptr());
    PyTuple_SET_ITEM(result, 1, PyFloat_FromDouble(r.reward));
    PyTuple_SET_ITEM(result, 2, PyBool_FromLong(r.terminated));
    PyTuple_SET_ITEM(result, 3, PyBool_FromLong(r.truncated));
    PyTuple_SET_ITEM(result, 4, PyDict_New());  // a new dict each step: the caller may keep it
    return py::reinterpret_steal<py::tuple>(result);
  }

  py::object render() {
    if (!render_mode_) {
      // Gymnasium's behaviour (and words) for an env made without a render mode.
      PyErr_WarnEx(PyExc_UserWarning,
                   "You are calling render method without specifying any render mode. You can specify "
                   "the render_mode at initialization, e.g. rlforge.make(\"ID\", render_mode=\"rgb_array\")",
                   1);
      return py::none();
    }
    if (!has_reset_) {
      throw EnvError(spec_.id + ": render() called before reset(); call reset() first");
    }
    if (!canvas_) {
      const RenderHints hints = env_->render_hints();
      canvas_ = std::make_unique<OffscreenCanvas>(hints.width, hints.height);
    }
    env_->render(*canvas_);
    return frame(*canvas_);
  }

  void close() { canvas_.reset(); }

  py::dict metadata() const {
    py::dict out;
    out["render_modes"] = py::make_tuple("rgb_array");
    out["render_fps"] = env_->render_hints().fps;
    return out;
  }

  // The physical state (Gymnasium's env.unwrapped.state), for envs that expose one.
  std::vector<double> state() const { return env_->state(); }

  const PyEnvSpec& spec() const { return spec_; }
  const std::shared_ptr<PySpace>& observation_space() const { return observation_space_; }
  const std::shared_ptr<PySpace>& action_space() const { return action_space_; }
  const std::optional<std::string>& render_mode() const { return render_mode_; }

  // One frame of an offscreen canvas as a [H, W, 3] uint8 array (shared with the vector env).
  static py::array frame(const OffscreenCanvas& canvas) {
    std::vector<uint8_t> rgb;
    canvas.read_rgb(rgb);
    py::array out = new_array(py::dtype::of<uint8_t>(), {canvas.height(), canvas.width(), 3});
    std::memcpy(out.mutable_data(), rgb.data(), rgb.size());
    return out;
  }

 private:
  void check_reset_options(py::handle options) const {
    if (options.is_none()) return;
    if (PyDict_Check(options.ptr()) && PyDict_Size(options.ptr()) == 0) return;
    throw EnvError(spec_.id + ": reset options " + py::repr(options).cast<std::string>() +
                   " are not supported; rlforge envs take their settings as make() options");
  }

  // Runs `produce` on fresh observation memory and returns it as Python sees it: an array, or an
  // int for a Discrete observation space (as Gymnasium's FrozenLake returns).
  template <typename Produce>
  py::object observe(Produce&& produce) {
    if (discrete_observation_) {
      int64_t value = 0;
      produce(&value);
      return py::int_(value);
    }
    py::array obs = new_array(obs_dtype_, obs_shape_);
    produce(obs.mutable_data());
    return std::move(obs);
  }

  // The action as rlforge reads it. Discrete: an int, a NumPy integer or a 0-d integer array (what
  // Gymnasium's Discrete.contains accepts). Box: anything NumPy converts to the Box's dtype; the
  // element count, range and finiteness are checked by the env, in rlforge's words.
  ActionRef action_ref(py::handle action, py::object& converted) {
    const Space& space = env_->spec().action_space;
    if (space.is_discrete()) {
      const std::optional<int64_t> value = integer_from_python(action);
      if (!value) {
        throw EnvError(spec_.id + ": action " + py::repr(action).cast<std::string>() +
                       " is not an integer; the action space is " + space.describe());
      }
      discrete_action_ = *value;
      return ActionRef::discrete(discrete_action_);
    }
    py::array array;
    if (space.dtype() == DType::UInt8) {
      array = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>::ensure(action);
    } else {
      array = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(action);
    }
    if (!array) {
      throw EnvError(spec_.id + ": action " + py::repr(action).cast<std::string>() +
                     " is not an array of numbers; the action space is " + space.describe());
    }
    converted = array;
    return ActionRef{array.data(), space.dtype(), static_cast<std::size_t>(array.size())};
  }

  std::optional<std::string> render_mode_;
  std::unique_ptr<Env> env_;
  PyEnvSpec spec_;
  std::shared_ptr<PySpace> observation_space_, action_space_;
  py::dtype obs_dtype_;
  std::vector<py::ssize_t> obs_shape_;
  bool discrete_observation_ = false;
  int64_t discrete_action_ = 0;
  bool has_reset_ = false;
  std::unique_ptr<OffscreenCanvas> canvas_;
};

py::array render_frame(const OffscreenCanvas& canvas) { return PyEnv::frame(canvas); }

void bind_env(py::module_& m) {
  py::class_<PyEnvSpec>(m, "EnvSpec", "Gymnasium's EnvSpec: the id, the episode limit and the options")
      .def_readonly("id", &PyEnvSpec::id)
      .def_readonly("max_episode_steps", &PyEnvSpec::max_episode_steps)
      .def_readonly("reward_threshold", &PyEnvSpec::reward_threshold)
      .def_readonly("kwargs", &PyEnvSpec::kwargs)
      .def("__repr__", [](const PyEnvSpec& s) {
        return "EnvSpec(id=" + s.id + ", max_episode_steps=" +
               (s.max_episode_steps ? std::to_string(*s.max_episode_steps) : std::string("None")) + ")";
      });

  py::class_<PyEnv>(m, "Env", "One rlforge env with Gymnasium 1.x's API; made by rlforge.make()")
      .def(py::init<const std::string&, const py::dict&, py::handle, py::handle, py::handle>(), py::arg("id"),
           py::arg("options") = py::dict(), py::arg("render_mode") = py::none(), py::arg("wrappers") = py::none(),
           py::arg("randomize") = py::none())
      .def("reset", &PyEnv::reset, py::kw_only(), py::arg("seed") = py::none(), py::arg("options") = py::none(),
           "reset(*, seed=None, options=None) -> (obs, info)")
      .def("step", &PyEnv::step, py::arg("action"),
           "step(action) -> (obs, reward, terminated, truncated, info)")
      .def("render", &PyEnv::render, "An RGB frame [H, W, 3] uint8 (render_mode='rgb_array')")
      .def("close", &PyEnv::close)
      .def_property_readonly("observation_space", &PyEnv::observation_space)
      .def_property_readonly("action_space", &PyEnv::action_space)
      .def_property_readonly("spec", &PyEnv::spec)
      .def_property_readonly("render_mode", &PyEnv::render_mode)
      .def_property_readonly("metadata", &PyEnv::metadata)
      .def_property_readonly("state", &PyEnv::state)
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](PyEnv& self, py::args) {
        self.close();
        return false;
      })
      .def("__repr__", [](const PyEnv& self) { return "<rlforge.Env " + self.spec().id + ">"; });
}

}  // namespace rlforge::python
