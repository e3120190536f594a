// Gymnasium's spaces (Discrete, Box, MultiDiscrete) over rlforge's Space, and the small
// conversions the module shares: dtypes, fresh arrays, seeds, integers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "bindings.h"
#include "rlforge/envs/errors.h"

namespace rlforge::python {

namespace {

// NumPy objects looked up once. They are never released: the module lives until the interpreter
// ends, and releasing a Python object after finalisation would crash.
const py::object& numpy_attr(const char* name) {
  static auto* numpy = new py::module_(py::module_::import("numpy"));
  return *new py::object(numpy->attr(name));
}
const py::object& numpy_integer_type() {
  static const py::object& type = numpy_attr("integer");
  return type;
}
const py::object& numpy_int64_type() {
  static const py::object& type = numpy_attr("int64");
  return type;
}

bool is_numpy_integer(py::handle value) {
  if (py::isinstance(value, numpy_integer_type())) return true;
  if (!py::isinstance<py::array>(value)) return false;
  const auto array = py::reinterpret_borrow<py::array>(value);
  const char kind = array.dtype().kind();
  return array.ndim() == 0 && (kind == 'i' || kind == 'u');
}

// Read-only, so that writing into space.low does not silently leave the space unchanged.
py::array read_only(py::array array) {
  array.attr("setflags")(py::arg("write") = false);
  return array;
}

py::array bounds_array(const Space& space, const std::vector<float>& values) {
  std::vector<py::ssize_t> shape(space.shape().begin(), space.shape().end());
  py::array out = new_array(numpy_dtype(space.dtype()), shape);
  if (space.dtype() == DType::UInt8) {
    auto* data = static_cast<uint8_t*>(out.mutable_data());
    for (std::size_t i = 0; i < values.size(); ++i) data[i] = static_cast<uint8_t>(values[i]);
  } else {
    std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(float));
  }
  return read_only(out);
}

}  // namespace

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32: return py::dtype::of<float>();
    case DType::UInt8: return py::dtype::of<uint8_t>();
    case DType::Int64: break;
  }
  return py::dtype::of<int64_t>();
}

py::array new_array(const py::dtype& dtype, const std::vector<py::ssize_t>& shape) {
  return py::array(dtype, shape);
}

uint64_t seed_from_python(py::handle seed, const char* what) {
  py::object index;
  if (PyLong_Check(seed.ptr())) {
    index = py::reinterpret_borrow<py::object>(seed);
  } else if (is_numpy_integer(seed)) {
    index = py::reinterpret_steal<py::object>(PyNumber_Index(seed.ptr()));
    if (!index) throw py::error_already_set();
  }
  if (index) {
    const unsigned long long value = PyLong_AsUnsignedLongLong(index.ptr());
    if (!(value == static_cast<unsigned long long>(-1) && PyErr_Occurred())) return value;
    PyErr_Clear();  // negative or 2^64 and beyond: the message below says so
  }
  throw EnvError(std::string(what) + ": a seed must be an integer in [0, 2**64) or None, got " +
                 py::repr(seed).cast<std::string>());
}

uint64_t entropy_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

std::optional<int64_t> integer_from_python(py::handle value) {
  if (PyLong_Check(value.ptr())) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
    if (overflow != 0) return std::nullopt;
    return v;
  }
  if (!is_numpy_integer(value)) return std::nullopt;
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!index) {
    PyErr_Clear();
    return std::nullopt;
  }
  return integer_from_python(index);
}

// ---- PySpace ----

py::list PySpace::seed(py::object seed) {
  const uint64_t value = seed.is_none() ? entropy_seed() : seed_from_python(seed, "Space.seed");
  rng_.seed_with(value);
  seeded_ = true;
  py::list out;
  out.append(py::int_(value));
  return out;
}

NumpyGenerator& PySpace::rng() {
  // An unseeded space draws from the operating system's entropy, as Gymnasium's does.
  if (!seeded_) {
    rng_.seed_with(entropy_seed());
    seeded_ = true;
  }
  return rng_;
}

// ---- Discrete ----

py::object DiscreteSpace::sample() {
  int64_t value = 0;
  space_.sample(rng(), &value);
  // np.int64, as Gymnasium's Discrete.sample returns.
  return numpy_int64_type()(value);
}

bool DiscreteSpace::contains(py::handle value) const {
  const std::optional<int64_t> v = integer_from_python(value);
  return v && *v >= 0 && *v < space_.n();
}

bool DiscreteSpace::equals(const PySpace& other) const {
  const auto* o = dynamic_cast<const DiscreteSpace*>(&other);
  return o != nullptr && o->space_ == space_;
}

// ---- Box ----

BoxSpace::BoxSpace(Space space)
    : space_(std::move(space)), low_(bounds_array(space_, space_.low())), high_(bounds_array(space_, space_.high())) {}

bool BoxSpace::is_bounded(const std::string& manner) const {
  const auto finite = [](const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
  };
  if (manner == "both") return finite(space_.low()) && finite(space_.high());
  if (manner == "below") return finite(space_.low());
  if (manner == "above") return finite(space_.high());
  // Gymnasium's words.
  throw py::value_error("manner is not in {'below', 'above', 'both'}, actual value: " + manner);
}

py::tuple BoxSpace::shape() const {
  py::tuple out(space_.shape().size());
  for (std::size_t i = 0; i < space_.shape().size(); ++i) out[i] = py::int_(space_.shape()[i]);
  return out;
}

py::object BoxSpace::sample() {
  std::vector<py::ssize_t> shape(space_.shape().begin(), space_.shape().end());
  py::array out = new_array(dtype(), shape);
  space_.sample(rng(), out.mutable_data());
  return std::move(out);
}

bool BoxSpace::contains(py::handle value) const {
  // Gymnasium's Box.contains: a non-array is converted to the Box's dtype; an array must be
  // safely castable to it (so float64 values are not in a float32 Box), of the Box's shape, and
  // within the bounds.
  static const py::object& asarray = numpy_attr("asarray");
  static const py::object& can_cast = numpy_attr("can_cast");
  py::array array;
  if (py::isinstance<py::array>(value)) {
    array = py::reinterpret_borrow<py::array>(value);
  } else {
    try {
      array = asarray(value, py::arg("dtype") = dtype());
    } catch (const py::error_already_set&) {
      return false;
    }
  }
  if (!can_cast(array.dtype(), dtype()).cast<bool>()) return false;
  const auto& shape = space_.shape();
  if (static_cast<std::size_t>(array.ndim()) != shape.size()) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (array.shape(static_cast<py::ssize_t>(i)) != shape[i]) return false;
  }
  const py::array converted = asarray(array, py::arg("dtype") = dtype(), py::arg("order") = "C");
  return space_.contains(converted.data());
}

bool BoxSpace::equals(const PySpace& other) const {
  const auto* o = dynamic_cast<const BoxSpace*>(&other);
  return o != nullptr && o->space_ == space_;
}

// ---- MultiDiscrete ----

py::array MultiDiscreteSpace::nvec() const {
  py::array out = new_array(dtype(), {static_cast<py::ssize_t>(count_)});
  auto* data = static_cast<int64_t*>(out.mutable_data());
  std::fill(data, data + count_, element_.n());
  return read_only(out);
}

py::object MultiDiscreteSpace::sample() {
  py::array out = new_array(dtype(), {static_cast<py::ssize_t>(count_)});
  element_.sample_batch(rng(), out.mutable_data(), static_cast<std::size_t>(count_));
  return std::move(out);
}

bool MultiDiscreteSpace::contains(py::handle value) const {
  // Gymnasium's MultiDiscrete.contains: sequences become arrays; an array of the right shape and
  // a non-object dtype whose values all lie in [0, n).
  static const py::object& asarray = numpy_attr("asarray");
  py::array array;
  if (py::isinstance<py::array>(value)) {
    array = py::reinterpret_borrow<py::array>(value);
  } else if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    try {
      array = asarray(value);
    } catch (const py::error_already_set&) {
      return false;
    }
  } else {
    return false;
  }
  const char kind = array.dtype().kind();
  if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f') return false;
  if (array.ndim() != 1 || array.shape(0) != count_) return false;
  const py::array values = asarray(array, py::arg("dtype") = py::dtype::of<double>(), py::arg("order") = "C");
  const auto* v = static_cast<const double*>(values.data());
  const auto n = static_cast<double>(element_.n());
  return std::all_of(v, v + count_, [n](double x) { return x >= 0 && x < n; });
}

std::string MultiDiscreteSpace::repr() const {
  return "MultiDiscrete(" + py::str(nvec()).cast<std::string>() + ")";
}

bool MultiDiscreteSpace::equals(const PySpace& other) const {
  const auto* o = dynamic_cast<const MultiDiscreteSpace*>(&other);
  return o != nullptr && o->element_ == element_ && o->count_ == count_;
}

std::shared_ptr<PySpace> make_py_space(const Space& space, int64_t batch) {
  if (batch <= 0) {
    if (space.is_discrete()) return std::make_shared<DiscreteSpace>(space);
    return std::make_shared<BoxSpace>(space);
  }
  if (space.is_discrete()) return std::make_shared<MultiDiscreteSpace>(space, batch);
  // Gymnasium's batch_space of a Box: the bounds repeated along a new leading axis.
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), space.shape().begin(), space.shape().end());
  std::vector<float> low, high;
  low.reserve(space.size() * static_cast<std::size_t>(batch));
  high.reserve(low.capacity());
  for (int64_t i = 0; i < batch; ++i) {
    low.insert(low.end(), space.low().begin(), space.low().end());
    high.insert(high.end(), space.high().begin(), space.high().end());
  }
  return std::make_shared<BoxSpace>(Space::box(shape, low, high, space.dtype()));
}

void bind_spaces(py::module_& m) {
  py::class_<PySpace, std::shared_ptr<PySpace>>(m, "Space",
                                                "A Gymnasium space; seed() then sample() draws as Gymnasium does")
      .def("seed", &PySpace::seed, py::arg("seed") = py::none(),
           "Seeds the space's generator (None: from the OS); returns [seed]")
      .def("sample", &PySpace::sample, "A random element of the space")
      .def("contains", &PySpace::contains, py::arg("x"))
      .def("__contains__", &PySpace::contains)
      .def_property_readonly("shape", &PySpace::shape)
      .def_property_readonly("dtype", &PySpace::dtype)
      .def("__repr__", &PySpace::repr)
      .def("__str__", &PySpace::repr)
      .def("__eq__", [](const PySpace& self, py::object other) {
        return py::isinstance<PySpace>(other) && self.equals(other.cast<const PySpace&>());
      });
  py::class_<DiscreteSpace, PySpace, std::shared_ptr<DiscreteSpace>>(m, "Discrete")
      .def_property_readonly("n", [](const DiscreteSpace& s) { return numpy_int64_type()(s.n()); })
      .def_property_readonly("start", [](const DiscreteSpace&) { return numpy_int64_type()(0); });
  py::class_<BoxSpace, PySpace, std::shared_ptr<BoxSpace>>(m, "Box")
      .def_property_readonly("low", &BoxSpace::low)
      .def_property_readonly("high", &BoxSpace::high)
      .def("is_bounded", &BoxSpace::is_bounded, py::arg("manner") = "both");
  py::class_<MultiDiscreteSpace, PySpace, std::shared_ptr<MultiDiscreteSpace>>(m, "MultiDiscrete")
      .def_property_readonly("nvec", &MultiDiscreteSpace::nvec)
      .def_property_readonly("start", [](const MultiDiscreteSpace& s) {
        py::array out = s.nvec().attr("copy")();
        out.attr("fill")(0);
        return read_only(out);
      });
}

}  // namespace rlforge::python
