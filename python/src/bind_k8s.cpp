// Python binding of the Kubernetes edge (gpushare/k8s): objects cross as JSON text; the
// friendly API is python/gpushare/k8s.py.
#include <gpushare/k8s/recover.hpp>

#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;

namespace gpushare_py {

namespace {
nlohmann::json parse_json(const std::string& text, const char* what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw gpushare::ParseError(std::string(what) + ": invalid JSON: " + e.what());
  }
}
gpushare::k8s::DialectOptions options(const std::string& aliyun_unit) {
  gpushare::k8s::DialectOptions o;
  if (aliyun_unit == "MiB") o.aliyun_mib = true;
  else if (aliyun_unit != "GiB") throw gpushare::InvalidArgument("aliyun_unit: expected 'GiB' or 'MiB', got '" + aliyun_unit + "'");
  return o;
}
}  // namespace

void bind_k8s(py::module_& m) {
  m.def(
      "_k8s_pod_request",
      [](const std::string& text, const std::string& dialect, const std::string& aliyun_unit) {
        auto pr = gpushare::k8s::pod_request(parse_json(text, "pod"), gpushare::k8s::parse_dialect(dialect), options(aliyun_unit));
        py::list cs;
        for (const auto& c : pr.containers) {
          py::dict d;
          d["name"] = c.name;
          d["init"] = c.init;
          d["gpu_count"] = c.demand.count;
          d["gpu_milli"] = c.demand.milli;
          d["gpu_mib"] = c.demand.mib;
          d["raw_mem"] = c.raw_mem;
          d["raw_cores"] = c.raw_cores;
          d["raw_count"] = c.raw_count;
          d["mem_percentage"] = c.mem_percentage;
          cs.append(d);
        }
        return py::make_tuple(pr.request, cs);
      },
      py::arg("text"), py::arg("dialect"), py::arg("aliyun_unit") = "GiB",
      "Parse a core/v1 Pod (JSON text): (effective Request, per-container dicts).");
  m.def(
      "_k8s_recover_cluster",
      [](const std::string& nodes, const std::string& pods, const std::string& dialect, const std::string& aliyun_unit) {
        auto r = gpushare::k8s::recover_cluster(parse_json(nodes, "nodes"), parse_json(pods, "pods"),
                                                gpushare::k8s::parse_dialect(dialect), options(aliyun_unit));
        std::vector<std::pair<std::string, std::string>> un;
        for (const auto& u : r.unplaced) un.emplace_back(u.pod, u.reason);
        return py::make_tuple(std::move(r.cluster), r.placements, un);
      },
      py::arg("nodes"), py::arg("pods"), py::arg("dialect"), py::arg("aliyun_unit") = "GiB",
      "Rebuild cluster state from Node and Pod lists (JSON text): (Cluster, placements, [(pod, reason)]).");
}

}  // namespace gpushare_py
