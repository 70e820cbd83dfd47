// Python binding of the inspect document (gpushare/k8s/inspect.hpp), the cluster view page
// (gpushare/k8s/cluster_view.hpp) and a replay's end state as an inspect document
// (gpushare/k8s/inspect_snapshot.hpp).
#include <gpushare/catalogue.hpp>
#include <gpushare/k8s/cluster_view.hpp>
#include <gpushare/k8s/inspect.hpp>
#include <gpushare/k8s/inspect_snapshot.hpp>
#include <gpushare/sim/policies.hpp>

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
  m.def(
      "cluster_view_html",
      [](const std::string& doc) {
        if (doc.empty()) return gpushare::k8s::cluster_view_html();
        nlohmann::json j;
        try {
          j = nlohmann::json::parse(doc);
        } catch (const nlohmann::json::parse_error& e) {
          throw gpushare::ParseError(std::string("cluster view: the inspect document is not JSON: ") + e.what());
        }
        if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_array())
          throw gpushare::ParseError("cluster view: the inspect document has no 'nodes' array");
        return gpushare::k8s::cluster_view_html(j);
      },
      py::arg("inspect_json") = std::string(),
      "The cluster view page; with an inspect document (JSON text) it is embedded and drawn without polling.");
  m.def(
      "sim_replay_snapshot",
      [](const std::vector<gpushare::sim::SimNode>& nodes, const std::vector<gpushare::sim::SimPod>& pods,
         const std::string& policy, uint64_t seed, double inflation, bool shuffle, bool timed, bool resample,
         const std::string& title) {
        const gpushare::sim::SimPolicy& pol = gpushare::sim::sim_policy(policy);
        gpushare::sim::ReplayOptions o;
        o.resample = resample;
        o.inflation = inflation;
        o.shuffle = shuffle;
        o.timed = timed;
        o.max_pct = 0;  // only the end state is wanted
        nlohmann::json doc;
        {
          py::gil_scoped_release nogil;
          gpushare::sim::Replayer r(nodes, pods, o);
          doc = gpushare::k8s::replay_snapshot(nodes, r.target(), r.run(pol, seed), title,
                                               static_cast<std::int64_t>(pods.size()));
        }
        return doc.dump();
      },
      py::arg("nodes"), py::arg("pods"), py::arg("policy"), py::arg("seed"), py::arg("inflation") = 1.3,
      py::arg("shuffle") = true, py::arg("timed") = false, py::arg("resample") = true, py::arg("title") = std::string(),
      "Replay once and return the end state as an inspect document (JSON text).");
}

}  // namespace gpushare_py
