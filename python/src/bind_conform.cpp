// Python binding of the conformance runners: run a suite given as JSON text.
#include <gpushare/modes/conform/run.hpp>

#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;

namespace gpushare_py {

void bind_conform(py::module_& m) {
  using gpushare::conform::CaseFailure;
  using gpushare::conform::SuiteReport;
  py::class_<CaseFailure>(m, "CaseFailure", "A failed conformance case: id, expected and actual (JSON text).")
      .def_readonly("id", &CaseFailure::id)
      .def_readonly("expected", &CaseFailure::expected)
      .def_readonly("got", &CaseFailure::got)
      .def("__repr__", [](const CaseFailure& f) { return "CaseFailure(id='" + f.id + "')"; });
  py::class_<SuiteReport>(m, "SuiteReport", "Outcome of one conformance suite file.")
      .def_readonly("suite", &SuiteReport::suite)
      .def_readonly("supported", &SuiteReport::supported)
      .def_readonly("passed", &SuiteReport::passed)
      .def_readonly("failures", &SuiteReport::failures)
      .def_property_readonly("failed", &SuiteReport::failed)
      .def("__repr__", [](const SuiteReport& r) {
        return "SuiteReport(suite='" + r.suite + "', supported=" + (r.supported ? "True" : "False") +
               ", passed=" + std::to_string(r.passed) + ", failed=" + std::to_string(r.failed()) + ")";
      });
  m.def(
      "run_conformance",
      [](const std::string& text, const std::string& suite_dir) {
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
          throw gpushare::ParseError(std::string("conformance suite: invalid JSON: ") + e.what());
        }
        py::gil_scoped_release unlocked;
        return gpushare::conform::run_suite(j, suite_dir);
      },
      py::arg("text"), py::arg("suite_dir") = ".",
      "Run a conformance suite (the file's JSON text); fixtures are found relative to suite_dir.");
  m.def("supported_suites", &gpushare::conform::supported_suites);
}

}  // namespace gpushare_py
