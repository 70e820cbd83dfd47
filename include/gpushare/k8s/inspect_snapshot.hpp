// gpushare/k8s/inspect_snapshot.hpp — a trace replay's end state (sim/replay.hpp) as an inspect
// document (k8s/inspect.hpp schema), so the cluster view (k8s/cluster_view.hpp) can draw what a
// policy left behind: every node's GPUs with the compute in use, each node's FGD fragmentation
// under the trace's target workload, and the pods that found no node, grouped by shape, with
// why no node can take that shape at the end.
//
// The openb traces have no GPU memory: mib_used and mib_total are 0.  The replay does not keep
// pod names, so a node's "pods" list is empty.
//
// @code
//   gpushare::sim::Replayer r(nodes, pods);
//   auto res = r.run(gpushare::sim::sim_policy("best"), 42);
//   nlohmann::json doc = gpushare::k8s::replay_snapshot(nodes, r.target(), res);
// @endcode
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/sim/replay.hpp"
#include "gpushare/sim/state.hpp"
#include "gpushare/k8s/unschedulable.hpp"

namespace gpushare {
namespace k8s {

/// @brief "1 GPU x 500m, 8000m CPU, models G2|T4" — a readable name for a trace shape.
inline std::string describe_shape(const sim::PodShape& s) {
  std::string out;
  if (s.num == 0) out = "CPU only";
  else out = std::to_string(s.num) + (s.num == 1 ? " GPU x " : " GPUs x ") + std::to_string(s.milli) + "m";
  out += ", " + std::to_string(s.cpu) + "m CPU";
  if (s.spec_mask != 0) {
    std::string models;
    for (std::size_t k = 0; k < sim::known_gpu_models().size(); ++k)
      if ((s.spec_mask >> k) & 1u) models += (models.empty() ? "" : "|") + sim::known_gpu_models()[k];
    out += ", models " + models;
  }
  return out;
}

/// @brief Why a node cannot host a shape, by the simulator's filter without host memory
/// ("gpu_model", "cpu", "gpu_count", "gpu_capacity"), or "" if it can.
inline std::string shape_misfit(const sim::NodeState& n, const sim::PodShape& s) {
  if (s.num > 0 && (n.gpus == 0 || !s.accepts_model(n.model))) return "gpu_model";
  if (s.cpu > n.cpu_left) return "cpu";
  if (s.num == 0) return "";
  if (s.num > n.gpus) return "gpu_count";
  int enough = 0;
  for (int g = 0; g < n.gpus; ++g) enough += n.left[static_cast<std::size_t>(g)] >= s.milli;
  return enough >= s.num ? "" : "gpu_capacity";
}

/// @brief The inspect document of a replay's end state.  `nodes` are the replay's input nodes
/// (same order as `res.end_nodes`), `target` the workload fragmentation is measured against
/// (Replayer::target()), `trace_pods` the number of pods it was learned from (-1: unknown).  Adds {"snapshot": {"policy", "seed", "title", "pods_submitted",
/// "pods_placed", "pods_failed", "arrived_milli"}}; the failed pods are in "unschedulable", one
/// entry per shape ("attempts" = pods of that shape that found no node).
/// @throws InvalidArgument if `res` has no end state for every node.
inline nlohmann::json replay_snapshot(const std::vector<sim::SimNode>& nodes, const sim::TargetWorkload& target,
                                      const sim::ReplayResult& res, const std::string& title = "",
                                      std::int64_t trace_pods = -1) {
  if (res.end_nodes.size() != nodes.size())
    throw InvalidArgument("replay snapshot: the result has " + std::to_string(res.end_nodes.size()) +
                          " node states for " + std::to_string(nodes.size()) + " nodes");
  nlohmann::json out_nodes = nlohmann::json::array();
  std::int64_t milli_used = 0, milli_total = 0, idle_total = 0;
  double frag_total = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const sim::NodeState& st = res.end_nodes[i];
    nlohmann::json gpus = nlohmann::json::array();
    for (int g = 0; g < st.gpus; ++g) {
      const std::int64_t left = st.left[static_cast<std::size_t>(g)];
      gpus.push_back({{"index", g}, {"model", nodes[i].model}, {"healthy", true}, {"milli_used", 1000 - left},
                      {"milli_total", 1000}, {"mib_used", 0}, {"mib_total", 0}});
      milli_used += 1000 - left;
      milli_total += 1000;
    }
    const double frag = sim::node_frag(st, target);
    idle_total += st.idle_milli();
    frag_total += frag;
    out_nodes.push_back({{"name", nodes[i].name}, {"gpus", gpus}, {"pods", nlohmann::json::array()},
                         {"cpu_used_milli", st.cpu_cap - st.cpu_left}, {"cpu_total_milli", st.cpu_cap},
                         {"idle_milli", st.idle_milli()}, {"frag_milli", frag}});
  }
  nlohmann::json unsched = nlohmann::json::array();
  for (const auto& [shape, count] : res.failed_shapes) {
    std::map<std::string, NodeFailure> why;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::string code = shape_misfit(res.end_nodes[i], shape);
      if (!code.empty()) why[nodes[i].name] = {code, code};
    }
    const auto candidates = static_cast<std::int64_t>(nodes.size());
    const auto fit = candidates - static_cast<std::int64_t>(why.size());
    std::string reason = summarize_failures(why, candidates);
    if (fit > 0)
      reason = std::to_string(fit) + " of " + std::to_string(candidates) +
               " nodes fit it at the end by GPU and CPU (host memory, or the state when it came, decided)" +
               (why.empty() ? std::string() : "; the others: " + count_failures(why));
    unsched.push_back({{"pod", describe_shape(shape)}, {"reason", reason}, {"failed_nodes", nlohmann::json::object()},
                       {"candidates", candidates}, {"attempts", count}, {"last_seen_unix", 0}});
  }
  nlohmann::json frag_info = {{"measure", "FGD (Weng et al., ATC'23): idle GPU milli the target workload cannot use"},
                               {"target", "the trace's most frequent shapes (the replay's target workload)"},
                               {"target_shapes", target.shapes.size()}};
  if (trace_pods >= 0) frag_info["pods_counted"] = trace_pods;
  return {{"nodes", out_nodes},
          {"pending_pods", nlohmann::json::array()},
          {"pending", nlohmann::json::array()},
          {"unschedulable", unsched},
          {"dropped_allocations", nlohmann::json::array()},
          {"fragmentation", frag_info},
          {"total",
           {{"milli_used", milli_used}, {"milli_total", milli_total}, {"mib_used", 0}, {"mib_total", 0},
            {"idle_milli", idle_total}, {"frag_milli", frag_total}}},
          {"snapshot",
           {{"policy", res.policy}, {"seed", res.seed}, {"title", title.empty() ? res.policy + ", seed " + std::to_string(res.seed) : title},
            {"pods_submitted", res.pods_submitted}, {"pods_placed", res.pods_placed}, {"pods_failed", res.pods_failed},
            {"arrived_milli", res.arrived_milli}}}};
}

}  // namespace k8s
}  // namespace gpushare
