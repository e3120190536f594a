// The extension module rlforge._policy: an exported policy (rlforge::Policy, inference/) called
// on NumPy observations. Built only with LibTorch; it links the TorchScript runtime and no
// training code. python/rlforge/__init__.py exposes it as rlforge.load_policy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "rlforge/inference/policy.h"

namespace py = pybind11;

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  return s + ")";
}

// One observation (the observation's shape) or a batch of them ([B, ...]), any numeric dtype:
// the action, or a batch of actions.
template <typename Observation>
py::object act(const rlforge::Policy& policy, const py::handle& input) {
  const auto in = py::array_t<Observation, py::array::c_style | py::array::forcecast>::ensure(input);
  if (!in) {
    PyErr_Clear();
    throw py::value_error("a policy takes observations as a numeric array (or nested lists of numbers)");
  }
  const std::vector<int64_t>& shape = policy.observation_shape();
  const auto rank = static_cast<py::ssize_t>(shape.size());
  const bool single = in.ndim() == rank;
  bool fits = single || in.ndim() == rank + 1;
  for (py::ssize_t d = 0; fits && d < rank; ++d) fits = in.shape(d + (single ? 0 : 1)) == shape[static_cast<std::size_t>(d)];
  if (!fits) {
    throw py::value_error("observations of shape " + shape_text({in.shape(), in.shape() + in.ndim()}) +
                          ": this policy takes one observation of shape " + shape_text(shape) + " or a batch [B, ...]");
  }
  const py::ssize_t batch = single ? 1 : in.shape(0);
  if (batch == 0) throw py::value_error("an empty batch of observations");
  std::vector<py::ssize_t> out_shape{batch};
  if (!policy.discrete()) out_shape.push_back(policy.action_size());
  py::array out = policy.discrete() ? py::array(py::dtype::of<int64_t>(), out_shape) : py::array(py::dtype::of<float>(), out_shape);
  {
    const py::gil_scoped_release release;
    policy.act_batch(in.data(), batch, out.mutable_data());
  }
  if (!single) return out;
  if (policy.discrete()) return py::int_(*static_cast<const int64_t*>(out.data()));
  return out.attr("reshape")(policy.action_size());
}

}  // namespace

PYBIND11_MODULE(_policy, m) {
  m.doc() = "rlforge's exported policies on NumPy observations (see docs/export.md)";
  py::class_<rlforge::Policy>(m, "Policy",
                              "An exported TorchScript policy: policy(observation) -> action, policy(batch) -> actions")
      .def(py::init([](const std::string& path) {
             try {
               return rlforge::Policy::load(path);
             } catch (const std::runtime_error& e) {
               throw py::value_error(e.what());
             }
           }),
           py::arg("path"))
      .def("__call__",
           [](const rlforge::Policy& p, const py::object& observations) {
             return p.observation_dtype() == "uint8" ? act<uint8_t>(p, observations) : act<float>(p, observations);
           },
           py::arg("observations"))
      .def_property_readonly("observation_shape",
                             [](const rlforge::Policy& p) {
                               py::tuple t(p.observation_shape().size());
                               for (std::size_t i = 0; i < p.observation_shape().size(); ++i) t[i] = p.observation_shape()[i];
                               return t;
                             })
      .def_property_readonly("observation_dtype", &rlforge::Policy::observation_dtype)
      .def_property_readonly("discrete", &rlforge::Policy::discrete)
      .def_property_readonly("action_size", &rlforge::Policy::action_size)
      .def_property_readonly("metadata", &rlforge::Policy::metadata)
      .def("__repr__", [](const rlforge::Policy& p) {
        const auto& m = p.metadata();
        const auto get = [&](const char* k) { return m.count(k) ? m.at(k) : std::string("?"); };
        return "<rlforge.Policy " + get("algorithm") + " on " + get("env") + ", actions " + get("action_space") + ">";
      });
#ifdef RLFORGE_PROGRAM
  // The rlforge program of this build, which rlforge.train() runs.
  m.attr("program") = RLFORGE_PROGRAM;
#else
  m.attr("program") = "";
#endif
}
