// Maps gpushare's C++ errors onto Python exceptions with the same messages.
//
//   GpushareError                       base of all
//   InvalidArgumentError(ValueError)    malformed input
//   NotFoundError(LookupError)          unknown node / GPU / allocation
//   CapacityError                       would over-allocate
//   ConflictError                       clashes with current state (double allocation...)
//   ParseError(ValueError)              unreadable text input
#include <gpushare/model/errors.hpp>

#include "bindings.hpp"

namespace py = pybind11;

namespace gpushare_py {

void bind_errors(py::module_& m) {
  static py::exception<gpushare::Error> base(m, "GpushareError");
  static py::exception<gpushare::InvalidArgument> invalid(m, "InvalidArgumentError",
                                                          py::make_tuple(base, py::handle(PyExc_ValueError)));
  static py::exception<gpushare::NotFound> not_found(m, "NotFoundError",
                                                     py::make_tuple(base, py::handle(PyExc_LookupError)));
  static py::exception<gpushare::CapacityError> capacity(m, "CapacityError", base);
  static py::exception<gpushare::ConflictError> conflict(m, "ConflictError", base);
  static py::exception<gpushare::ParseError> parse(m, "ParseError", py::make_tuple(base, py::handle(PyExc_ValueError)));
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gpushare::InvalidArgument& e) {
      PyErr_SetString(invalid.ptr(), e.what());
    } catch (const gpushare::NotFound& e) {
      PyErr_SetString(not_found.ptr(), e.what());
    } catch (const gpushare::CapacityError& e) {
      PyErr_SetString(capacity.ptr(), e.what());
    } catch (const gpushare::ConflictError& e) {
      PyErr_SetString(conflict.ptr(), e.what());
    } catch (const gpushare::ParseError& e) {
      PyErr_SetString(parse.ptr(), e.what());
    } catch (const gpushare::Error& e) {
      PyErr_SetString(base.ptr(), e.what());
    }
  });
}

}  // namespace gpushare_py
