// gpushare/modes/tencent/quota.hpp — tkestack gpu-admission per-namespace GPU quota mode.
//
// gpu-admission (before its quota filter was removed) limited each namespace to a number of
// whole GPUs per GPU model, and optionally to a set of node pools.  Here each namespace is a
// quota queue with no cohort and one flavor per model (resource "vcuda-core", 100 = one GPU), so
// the limit check is the same QuotaTree arithmetic Kueue mode uses (no borrowing, inclusive).
//
// @code
//   gpushare::GpuAdmissionConfig cfg;
//   cfg.namespaces["team-a"] = {{{"A100", 4}}, {"public"}};
//   auto r = gpushare::gpu_admission_filter(&cfg, nodes, pods, {"job", "team-a", 200, 0});
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "gpushare/solve/quota_model.hpp"

namespace gpushare {

/// @brief One namespace's entry: whole GPUs per model, and the allowed pools (empty = any).
struct GpuAdmissionNamespaceQuota {
  std::map<std::string, std::int64_t> quota;
  std::vector<std::string> pools;
};

/// @brief The parsed `gpu_quota` ConfigMap value: namespace -> quota.
struct GpuAdmissionConfig {
  std::map<std::string, GpuAdmissionNamespaceQuota> namespaces;
};

/// @brief A candidate node: its GPU model and pool labels ("" = unlabelled, e.g. a CPU node).
struct GpuAdmissionNode {
  std::string name;
  std::string model;
  std::string pool;
};

/// @brief An existing pod: namespace, bound node ("" = unbound), vcuda-core, phase.
struct GpuAdmissionPod {
  std::string name;
  std::string ns;
  std::string node;
  std::int64_t vcuda_core = 0;
  std::string phase = "Running";
};

/// @brief The pod being filtered.
struct GpuAdmissionRequest {
  std::string name;
  std::string ns;
  std::int64_t vcuda_core = 0;
  std::int64_t vcuda_memory = 0;
};

/// @brief Outcome of the quota filter.
struct GpuAdmissionResult {
  bool gpu_pod = false;
  bool quota_applies = false;
  std::optional<std::vector<std::string>> allowed_models;  ///< sorted; unset when no quota applies
  std::vector<std::string> passed;                         ///< node names, sorted
  std::map<std::string, std::string> failed;               ///< node -> "ExceedsGPUQuota"
};

/// @brief Whether a pod counts as a GPU pod for gpu-admission.
inline bool gpu_admission_is_gpu_pod(std::int64_t vcuda_core, std::int64_t vcuda_memory) {
  return vcuda_core >= 100 || (vcuda_core > 0 && vcuda_core < 100 && vcuda_memory > 0);
}

/// @brief Applies gpu-admission's quota filter.  `config == nullptr` means no ConfigMap.
inline GpuAdmissionResult gpu_admission_filter(const GpuAdmissionConfig* config,
                                               const std::vector<GpuAdmissionNode>& nodes,
                                               const std::vector<GpuAdmissionPod>& pods,
                                               const GpuAdmissionRequest& req) {
  GpuAdmissionResult r;
  r.gpu_pod = gpu_admission_is_gpu_pod(req.vcuda_core, req.vcuda_memory);
  auto all_pass = [&]() {
    for (const auto& n : nodes) r.passed.push_back(n.name);
    std::sort(r.passed.begin(), r.passed.end());
    return r;
  };
  if (!r.gpu_pod || config == nullptr) return all_pass();
  auto it = config->namespaces.find(req.ns);
  if (it == config->namespaces.end()) return all_pass();
  r.quota_applies = true;
  const GpuAdmissionNamespaceQuota& nq = it->second;

  // One queue (the namespace), one flavor per model, resource vcuda-core.
  QuotaTree t;
  QueueSpec q;
  q.name = req.ns;
  for (const auto& m : nq.quota) {
    if (m.second < 0) throw InvalidArgument("gpu-admission quota: namespace " + req.ns + " model " + m.first + " < 0");
    q.flavors.push_back({m.first, {{"vcuda-core", {m.second * 100, std::int64_t{0}, std::nullopt}}}});
  }
  t.add_queue(q);
  t.finalize();
  const int qi = t.queue_node(req.ns);
  std::map<std::string, std::string> model_of;
  for (const auto& n : nodes) model_of[n.name] = n.model;
  for (const auto& p : pods) {
    if (p.ns != req.ns || p.node.empty() || p.phase == "Succeeded" || p.phase == "Failed") continue;
    auto m = model_of.find(p.node);
    if (m == model_of.end() || m->second.empty()) continue;
    const int k = t.fr_index(m->second, "vcuda-core");
    if (k >= 0) t.add_usage(qi, k, p.vcuda_core);
  }
  std::set<std::string> allowed;
  for (const auto& m : nq.quota) {
    const int k = t.fr_index(m.first, "vcuda-core");
    if (req.vcuda_core <= t.available(qi, k)) allowed.insert(m.first);
  }
  r.allowed_models = std::vector<std::string>(allowed.begin(), allowed.end());
  for (const auto& n : nodes) {
    const bool model_ok = !n.model.empty() && allowed.count(n.model);
    const bool pool_ok = nq.pools.empty() || std::find(nq.pools.begin(), nq.pools.end(), n.pool) != nq.pools.end();
    if (model_ok && pool_ok) r.passed.push_back(n.name);
    else r.failed[n.name] = "ExceedsGPUQuota";
  }
  std::sort(r.passed.begin(), r.passed.end());
  return r;
}

}  // namespace gpushare
