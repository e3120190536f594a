// The extension module rlforge._envs; python/rlforge/__init__.py is its public face.
#include <pybind11/stl.h>

#include "bindings.h"
#include "rlforge/envs/plugin.h"
#include "rlforge/envs/registry.h"

namespace py = pybind11;

PYBIND11_MODULE(_envs, m) {
  m.doc() = "rlforge's environments with Gymnasium 1.x's API (see docs/python.md)";

  // rlforge's errors (bad action, unknown id, bad option, wrong call order) arrive as
  // rlforge.EnvError with the C++ message; it is a ValueError, as most of them are bad values.
  py::register_exception<rlforge::EnvError>(m, "EnvError", PyExc_ValueError);

  rlforge::python::bind_spaces(m);
  rlforge::python::bind_env(m);
  rlforge::python::bind_vector_env(m);

  m.def("registered_envs", [] { return rlforge::env_registry().ids(); },
        "The ids rlforge.make() knows, sorted (built-in envs and those of loaded plugins)");
  m.def(
      "env_options",
      [](const std::string& id) {
        py::dict out;
        for (const auto& option : rlforge::env_registry().options_of(id)) {
          out[py::str(option.name)] = py::make_tuple(
              std::visit([](const auto& v) { return py::cast(v); }, option.default_value), option.help);
        }
        return out;
      },
      py::arg("id"), "The options an env takes: {name: (default, help)}");
  m.def(
      "load_plugin",
      [](const std::string& path) { return rlforge::load_env_plugin(path).env_ids; }, py::arg("path"),
      "Loads an env plugin (a shared library built with rlforge_add_env_plugin); returns its env ids");
  m.attr("abi_tag") = rlforge::rlforge_abi_tag();
  // A call that does nothing, for python/bench/bench_python.py: the pybind11 call's own cost.
  m.def("_noop", [](py::handle) {});
}
