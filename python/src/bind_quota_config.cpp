// Python bindings of the Kueue configuration loader (gpushare/k8s/kueue_config.hpp).
#include <gpushare/k8s/kueue_config.hpp>

#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;
using namespace gpushare;

namespace gpushare_py {

void bind_quota_config(py::module_& m) {
  py::class_<k8s::KueueCohort>(m, "KueueCohort", "A Kueue Cohort: its parent (\"\" = root) and its own quota.")
      .def_readonly("name", &k8s::KueueCohort::name)
      .def_readonly("parent", &k8s::KueueCohort::parent)
      .def_readonly("flavors", &k8s::KueueCohort::flavors)
      .def("__repr__", [](const k8s::KueueCohort& c) {
        return "KueueCohort(name='" + c.name + "', parent='" + c.parent + "', flavors=" + std::to_string(c.flavors.size()) + ")";
      });
  py::class_<k8s::KueueConfig>(m, "KueueConfig", "Kueue objects loaded from JSON; tree() builds the quota tree.")
      .def_readonly("resource_flavors", &k8s::KueueConfig::resource_flavors)
      .def_readonly("cohorts", &k8s::KueueConfig::cohorts)
      .def_readonly("queues", &k8s::KueueConfig::queues)
      .def("tree", &k8s::KueueConfig::tree, "The finalized QuotaTree (named-only cohorts become roots without quota).")
      .def("__repr__", [](const k8s::KueueConfig& c) {
        return "KueueConfig(queues=" + std::to_string(c.queues.size()) + ", cohorts=" + std::to_string(c.cohorts.size()) +
               ", resource_flavors=" + std::to_string(c.resource_flavors.size()) + ")";
      });
  auto opts = [](const std::optional<std::vector<std::string>>& gpu) {
    k8s::KueueConfigOptions o;
    if (gpu) o.gpu_resources = *gpu;
    return o;
  };
  m.def(
      "_kueue_config_parse",
      [opts](const std::string& text, const std::string& source, std::optional<std::vector<std::string>> gpu) {
        return k8s::parse_kueue_config(text, source, opts(gpu));
      },
      py::arg("text"), py::arg("source") = "kueue config", py::arg("gpu_resources") = py::none());
  m.def(
      "_kueue_config_file",
      [opts](const std::string& path, std::optional<std::vector<std::string>> gpu) {
        return k8s::load_kueue_config_file(path, opts(gpu));
      },
      py::arg("path"), py::arg("gpu_resources") = py::none());
}

}  // namespace gpushare_py
