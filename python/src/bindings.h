#pragma once
// Shared pieces of the `rlforge._envs` extension module: spaces, seeds, arrays and errors.
//
// The module follows Gymnasium 1.x's API (docs/python.md); this header holds what the single env
// (env_bindings.cpp), the vector env (vector_bindings.cpp) and the spaces (spaces.cpp) share.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlforge/envs/env.h"
#include "rlforge/envs/numpy_random.h"
#include "rlforge/envs/options.h"
#include "rlforge/envs/space.h"
#include "rlforge/envs/vector_env.h"

namespace rlforge {
class OffscreenCanvas;  // rlforge/render/offscreen_canvas.h
}

namespace rlforge::python {

namespace py = pybind11;

// NumPy's dtype for an rlforge element type.
py::dtype numpy_dtype(DType dtype);

// A fresh, uninitialised C-contiguous array; `shape` is the full shape.
py::array new_array(const py::dtype& dtype, const std::vector<py::ssize_t>& shape);

// A seed as Gymnasium takes one: a non-negative Python int (or NumPy integer) below 2^64.
// `what` names the caller in the error ("reset", "Space.seed").
uint64_t seed_from_python(py::handle seed, const char* what);
// A seed from the operating system, for unseeded generators (as NumPy's SeedSequence(None)).
uint64_t entropy_seed();

// An int64 from a Python int, a NumPy integer scalar or a 0-d integer array (what Gymnasium's
// Discrete.contains accepts); std::nullopt for anything else, including values beyond int64.
std::optional<int64_t> integer_from_python(py::handle value);

// Gymnasium's spaces over an rlforge Space. Each space owns its generator for sample(), seeded by
// seed(s) (NumPy's Generator(PCG64(SeedSequence(s))), as Gymnasium's space.np_random), or from the
// operating system on the first sample() when never seeded.
class PySpace {
 public:
  virtual ~PySpace() = default;
  // Gymnasium's Space.seed: returns [seed used].
  py::list seed(py::object seed);
  virtual py::object sample() = 0;
  virtual bool contains(py::handle value) const = 0;
  virtual py::tuple shape() const = 0;
  virtual py::dtype dtype() const = 0;
  virtual std::string repr() const = 0;
  virtual bool equals(const PySpace& other) const = 0;

 protected:
  NumpyGenerator& rng();

 private:
  NumpyGenerator rng_;
  bool seeded_ = false;
};

// Discrete(n) (start 0): one int64.
class DiscreteSpace final : public PySpace {
 public:
  explicit DiscreteSpace(Space space) : space_(std::move(space)) {}
  int64_t n() const { return space_.n(); }
  py::object sample() override;
  bool contains(py::handle value) const override;
  py::tuple shape() const override { return py::tuple(); }
  py::dtype dtype() const override { return numpy_dtype(DType::Int64); }
  std::string repr() const override { return space_.describe(); }
  bool equals(const PySpace& other) const override;
  const Space& space() const { return space_; }

 private:
  Space space_;
};

// Box(low, high, shape, dtype): float32 or uint8 elements with per-element bounds.
class BoxSpace final : public PySpace {
 public:
  explicit BoxSpace(Space space);
  py::array low() const { return low_; }
  py::array high() const { return high_; }
  // Gymnasium's Box.is_bounded(manner): "both", "below" or "above".
  bool is_bounded(const std::string& manner) const;
  py::object sample() override;
  bool contains(py::handle value) const override;
  py::tuple shape() const override;
  py::dtype dtype() const override { return numpy_dtype(space_.dtype()); }
  std::string repr() const override { return space_.describe(); }
  bool equals(const PySpace& other) const override;
  const Space& space() const { return space_; }

 private:
  Space space_;
  py::array low_, high_;
};

// MultiDiscrete([n] * count): the batched action space of a vector env over Discrete(n), as
// Gymnasium's batch_space makes it. Samples as Gymnasium's MultiDiscrete: floor(random() * n).
class MultiDiscreteSpace final : public PySpace {
 public:
  MultiDiscreteSpace(Space element, int64_t count) : element_(std::move(element)), count_(count) {}
  py::array nvec() const;
  py::object sample() override;
  bool contains(py::handle value) const override;
  py::tuple shape() const override { return py::make_tuple(count_); }
  py::dtype dtype() const override { return numpy_dtype(DType::Int64); }
  std::string repr() const override;
  bool equals(const PySpace& other) const override;

 private:
  Space element_;
  int64_t count_;
};

// The Python object for one env's space; `batch` > 0 gives the vector env's batched space.
std::shared_ptr<PySpace> make_py_space(const Space& space, int64_t batch = 0);

// Gymnasium's EnvSpec, the part rlforge has: id, the episode limit, the reward threshold and the
// options the env was made with.
struct PyEnvSpec {
  std::string id;
  std::optional<int64_t> max_episode_steps;
  std::optional<double> reward_threshold;
  py::dict kwargs;
};

// Env options from make()'s keyword arguments: bool, int, float and str map to rlforge's option
// types (the registry converts and checks them against the env's declarations); anything else is
// refused here with the option's name.
Options options_from_python(const py::dict& options, const std::string& id);
// What make() and make_vec() build each env from: the id, its options, then the wrappers and the
// options drawn per episode, in a config's env.wrappers and env.randomize forms. `wrappers` is None
// or a list whose items are a name, a (name, {options}) pair or {"name": ..., "options": {...}};
// `randomize` is None or {"option": "uniform:LOW:HIGH", ...} (rlforge/envs/randomization.h).
// Mistakes raise EnvError naming the item.
VectorEnvConfig env_config_from_python(const std::string& id, const py::dict& options, py::handle wrappers,
                                       py::handle randomize);
// make_vec's curriculum= ({option: start value}), checked as env_config_from_python checks.
std::map<std::string, double> curriculum_from_python(const std::string& id, py::handle curriculum);
// Gymnasium's spec for an env made with `options`.
PyEnvSpec make_spec(const EnvSpec& spec, const py::dict& options);
// The render modes rlforge offers: None or "rgb_array" (a live window is `rlforge play`'s).
std::optional<std::string> checked_render_mode(py::handle render_mode, const std::string& id);

// One frame of an offscreen canvas as a [H, W, 3] uint8 array.
py::array render_frame(const OffscreenCanvas& canvas);

void bind_spaces(py::module_& m);
void bind_env(py::module_& m);
void bind_vector_env(py::module_& m);

}  // namespace rlforge::python
