// gpushare/modes/aliyun/aliyun.hpp — the Aliyun gpushare-scheduler-extender mode (aliyun.com/gpu-mem).
//
// Pure decision logic as the extender makes it: the whole pod must fit on ONE GPU; filter passes
// a node iff some healthy GPU has free >= request; bind picks the healthy GPU with the least free
// memory that fits (lowest index on ties).  Amounts are in the node's gpu-mem unit (GiB or MiB).
//
// @code
//   using namespace gpushare::k8s::aliyun;
//   std::vector<GpuState> gpus = {{16, 10, true}, {16, 5, true}};
//   BindResult b = bind(gpus, 7);          // b.gpu == 1
//   FilterResult f = filter(gpus, 7);      // f.pass == true
// @endcode
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace gpushare {
namespace k8s {
namespace aliyun {

/// @brief One GPU as the extender sees it: capacity and use in gpu-mem units, health.
struct GpuState {
  std::int64_t total = 0;
  std::int64_t used = 0;
  bool healthy = true;
  std::int64_t free() const { return total - used; }
};

/// @brief Filter outcome for one node.
struct FilterResult {
  bool pass = false;
  std::string reason;  ///< empty when passing
};

/// @brief Bind outcome: the GPU index, or -1 with an error.
struct BindResult {
  int gpu = -1;
  std::string error;
  bool ok() const { return gpu >= 0; }
};

inline const char* kNotShareNode = "not a GPU share node";
inline const char* kInsufficient = "insufficient GPU memory in one device";

/// @brief Filter: a node without GPUs fails; otherwise it passes iff a healthy GPU has
/// free >= request.  As upstream, the request is compared as an unsigned number: 0 passes on
/// any healthy GPU, a negative request fails everywhere.
inline FilterResult filter(const std::vector<GpuState>& gpus, std::int64_t request) {
  if (gpus.empty()) return {false, kNotShareNode};
  const std::uint64_t req = static_cast<std::uint64_t>(request);
  for (const auto& g : gpus) {
    if (!g.healthy) continue;
    const std::int64_t f = g.free();
    if (f >= 0 && static_cast<std::uint64_t>(f) >= req) return {true, ""};
  }
  return {false, kInsufficient};
}

/// @brief Score used by a prioritize step: free memory left on the best-fit GPU after placing
/// the request, negated so that tighter packing scores higher; lowest() if it does not fit.
inline std::int64_t score(const std::vector<GpuState>& gpus, std::int64_t request) {
  std::int64_t best = std::numeric_limits<std::int64_t>::lowest();
  for (const auto& g : gpus) {
    if (g.healthy && request > 0 && g.free() >= request) best = std::max(best, -(g.free() - request));
  }
  return best;
}

/// @brief Bind (binpack): among healthy GPUs with free >= request, the least free; ties to the
/// lowest index.  A request <= 0 or no fitting GPU is an error.
inline BindResult bind(const std::vector<GpuState>& gpus, std::int64_t request) {
  BindResult r;
  if (request <= 0) { r.error = "request must be positive"; return r; }
  std::int64_t best_free = 0;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    const auto& g = gpus[i];
    if (!g.healthy || g.free() < request) continue;
    if (r.gpu < 0 || g.free() < best_free) { r.gpu = static_cast<int>(i); best_free = g.free(); }
  }
  if (r.gpu < 0) r.error = "no GPU with enough free memory";
  return r;
}

/// @brief Per-GPU capacity as the device plugin advertises it: floor(MiB / 1024) in GiB mode,
/// the MiB in MiB mode.
inline std::int64_t per_gpu_units(std::int64_t device_mib, bool mib_unit) {
  return mib_unit ? device_mib : device_mib / 1024;
}

/// @brief Per-GPU total from node capacities: floor(gpu-mem / gpu-count); 0 if count <= 0.
inline std::int64_t per_gpu_total(std::int64_t node_gpu_mem, std::int64_t gpu_count) {
  return gpu_count > 0 ? node_gpu_mem / gpu_count : 0;
}

/// @brief One pod's booking for usage accounting.
struct PodUse {
  int gpu_index = -1;
  std::int64_t mem = 0;
  std::string phase;
};

/// @brief Used amount per GPU: Succeeded/Failed pods skipped, bad index ignored, negative = 0.
inline std::vector<std::int64_t> usage(int gpu_count, const std::vector<PodUse>& pods) {
  std::vector<std::int64_t> used(gpu_count > 0 ? gpu_count : 0, 0);
  for (const auto& p : pods) {
    if (p.phase == "Succeeded" || p.phase == "Failed") continue;
    if (p.gpu_index < 0 || p.gpu_index >= gpu_count) continue;
    if (p.mem > 0) used[p.gpu_index] += p.mem;
  }
  return used;
}

}  // namespace aliyun
}  // namespace k8s
}  // namespace gpushare
