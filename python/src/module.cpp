// gpushare._core: the compiled half of the Python package.  Private: import `gpushare`.
#include <gpushare/version.hpp>

#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "gpushare compiled core (private; use the gpushare package)";
  m.attr("__version__") = gpushare::version();
  gpushare_py::bind_errors(m);
  gpushare_py::bind_model(m);
  gpushare_py::bind_solve(m);
  gpushare_py::bind_conform(m);
  gpushare_py::bind_inspect(m);
  gpushare_py::bind_sim(m);
  gpushare_py::bind_sim_tenants(m);
  gpushare_py::bind_topology(m);
  gpushare_py::bind_quota(m);
  gpushare_py::bind_quota_config(m);
  gpushare_py::bind_k8s(m);
}
