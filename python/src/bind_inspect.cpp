// Python binding of the inspect document (gpushare/k8s/inspect.hpp).
#include <gpushare/k8s/inspect.hpp>

#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;

namespace gpushare_py {

void bind_inspect(py::module_& m) {
  m.def(
      "inspect_json",
      [](const gpushare::Cluster& c, const std::vector<std::string>& pending) {
        return gpushare::k8s::inspect_json(c, pending).dump();
      },
      py::arg("cluster"), py::arg("pending_pods") = std::vector<std::string>{},
      "The inspect document of a cluster as JSON text (what the extender serves at GET /inspect).");
}

}  // namespace gpushare_py
