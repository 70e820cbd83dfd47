// gpushare/modes/tencent/admission.hpp — the tkestack gpu-admission mode (tencent.com/vcuda-core,
// tencent.com/vcuda-memory): node order, per-container GPU choice and filter reasons.
//
// Pure decision logic.  Cores are in vcuda-core units (100 = one GPU), memory in vcuda-memory
// units (256 MiB).  Nodes are tried ascending by (free cores, free memory, name); the first node
// where every GPU container fits is the only passing node.
//
// @code
//   using namespace gpushare::k8s::tencent;
//   std::vector<NodeState> nodes = {{"n", {{100, 0, 16, 0}, {100, 70, 16, 2}}}};
//   FilterOutcome f = filter(nodes, {{25, 1}});   // f.node == "n", f.gpus == {{1}}
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace gpushare {
namespace k8s {
namespace tencent {

/// @brief One GPU: core capacity/use (100 = whole GPU) and memory capacity/use (256 MiB units).
struct GpuState {
  std::int64_t core_total = 100;
  std::int64_t core_used = 0;
  std::int64_t mem_total = 0;
  std::int64_t mem_used = 0;
  std::int64_t free_cores() const { return core_total - core_used; }
  std::int64_t free_mem() const { return mem_total - mem_used; }
};

/// @brief A node by name with its GPUs (index = position).
struct NodeState {
  std::string name;
  std::vector<GpuState> gpus;
  std::int64_t free_cores() const { std::int64_t s = 0; for (auto& g : gpus) s += g.free_cores(); return s; }
  std::int64_t free_mem() const { std::int64_t s = 0; for (auto& g : gpus) s += g.free_mem(); return s; }
};

/// @brief One container's ask: vcuda-core and vcuda-memory limits.
struct ContainerAsk {
  std::int64_t cores = 0;
  std::int64_t memory_units = 0;
  /// True if this container gets GPUs: cores >= 100, or 0 < cores < 100 with memory > 0.
  bool needs_gpu() const { return cores >= 100 || (cores > 0 && memory_units > 0); }
};

inline const char* kNoGpuDevice = "no GPU device";
inline const char* kNoMatch = "pod does not match with this node";
inline const char* kAlreadyMatched = "already matched to another node";

/// @brief True if upstream filters this pod at all (summed cores > 0 and (>= 100 or memory > 0)).
inline bool is_gpu_pod(const std::vector<ContainerAsk>& cs) {
  std::int64_t c = 0, m = 0;
  for (const auto& x : cs) { c += x.cores; m += x.memory_units; }
  return c > 0 && (c >= 100 || m > 0);
}

/// @brief Places the containers on one node in order, booking into `gpus`.  Returns false (and
/// leaves `gpus` in an unspecified state) if some GPU container does not fit.
inline bool place_on_node(std::vector<GpuState>& gpus, const std::vector<ContainerAsk>& cs,
                          std::vector<std::vector<int>>& out) {
  out.assign(cs.size(), {});
  for (std::size_t k = 0; k < cs.size(); ++k) {
    const ContainerAsk& c = cs[k];
    if (!c.needs_gpu()) continue;
    std::vector<int> order(gpus.size());
    for (std::size_t i = 0; i < gpus.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return std::make_tuple(gpus[a].free_cores(), gpus[a].free_mem(), a) <
             std::make_tuple(gpus[b].free_cores(), gpus[b].free_mem(), b);
    });
    if (c.cores < 100) {
      int pick = -1;
      for (int i : order) {
        if (gpus[i].free_cores() >= c.cores && gpus[i].free_mem() >= c.memory_units) { pick = i; break; }
      }
      if (pick < 0) return false;
      gpus[pick].core_used += c.cores;
      gpus[pick].mem_used += c.memory_units;
      out[k] = {pick};
    } else {
      const std::int64_t need = c.cores / 100;  // floor, as upstream
      std::vector<int> picked;
      for (int i : order) {
        if (static_cast<std::int64_t>(picked.size()) == need) break;
        if (gpus[i].free_cores() == 100) picked.push_back(i);
      }
      if (static_cast<std::int64_t>(picked.size()) < need) return false;
      for (int i : picked) { gpus[i].core_used = gpus[i].core_total; gpus[i].mem_used = gpus[i].mem_total; }
      out[k] = picked;
    }
  }
  return true;
}

/// @brief Outcome of the filter: the single passing node with GPUs per container, or none.
struct FilterOutcome {
  bool skip = false;  ///< not a GPU pod: every node passes unfiltered
  std::string node;   ///< empty when no node fits
  std::vector<std::vector<int>> gpus;        ///< per container, in pick order
  std::map<std::string, std::string> failed; ///< node -> reason
  bool ok() const { return skip || !node.empty(); }
};

/// @brief gpu-admission's filter over candidate nodes for one pod.
inline FilterOutcome filter(const std::vector<NodeState>& nodes, const std::vector<ContainerAsk>& cs) {
  FilterOutcome r;
  if (!is_gpu_pod(cs)) { r.skip = true; return r; }
  std::vector<const NodeState*> cand;
  for (const auto& n : nodes) {
    if (n.gpus.empty()) r.failed[n.name] = kNoGpuDevice; else cand.push_back(&n);
  }
  std::sort(cand.begin(), cand.end(), [](const NodeState* a, const NodeState* b) {
    return std::make_tuple(a->free_cores(), a->free_mem(), a->name) <
           std::make_tuple(b->free_cores(), b->free_mem(), b->name);
  });
  for (const NodeState* n : cand) {
    if (!r.node.empty()) { r.failed[n->name] = kAlreadyMatched; continue; }
    std::vector<GpuState> g = n->gpus;
    std::vector<std::vector<int>> out;
    if (place_on_node(g, cs, out)) { r.node = n->name; r.gpus = out; }
    else r.failed[n->name] = kNoMatch;
  }
  return r;
}

/// @brief Score for a prioritize step: the chosen node scores 10, every other node 0 (upstream
/// passes a single node, so ordering is decided by filter).
inline int score(const FilterOutcome& f, const std::string& node) { return f.node == node ? 10 : 0; }

}  // namespace tencent
}  // namespace k8s
}  // namespace gpushare
