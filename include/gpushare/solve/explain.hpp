// gpushare/solve/explain.hpp — why a request does not fit on a node, in words a person can act on.
//
// `diagnose(view, request)` returns std::nullopt when the node can take the request, or a
// Rejection naming the first blocking resource.  The classic GPU-sharing failure — enough
// free GPU memory on the node in total but not on any single GPU — is its own reason,
// `gpu_fragmented`, reported as e.g.
//   "node n3: no single GPU has 8192 MiB free (largest free 6144 MiB); total free 12288 MiB"
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "gpushare/model/cluster.hpp"
#include "gpushare/solve/gpu_choice.hpp"

namespace gpushare {

/// @brief Why a node could not take a request.
enum class RejectReason {
  gpu_model,       ///< no GPU of an accepted model
  cpu,             ///< not enough free CPU
  host_memory,     ///< not enough free host memory
  gpu_count,       ///< the node has fewer GPUs than requested
  gpu_unhealthy,   ///< not enough healthy GPUs of an accepted model
  gpu_fragmented,  ///< the node has enough free GPU capacity in total, but not on enough single GPUs
  gpu_capacity,    ///< not enough free GPU capacity on the node even in total
  policy,          ///< the policy rejected the node
};

/// @brief Short name of a reason ("cpu", "gpu_fragmented", ...).
inline const char* to_string(RejectReason r) {
  switch (r) {
    case RejectReason::gpu_model: return "gpu_model";
    case RejectReason::cpu: return "cpu";
    case RejectReason::host_memory: return "host_memory";
    case RejectReason::gpu_count: return "gpu_count";
    case RejectReason::gpu_unhealthy: return "gpu_unhealthy";
    case RejectReason::gpu_fragmented: return "gpu_fragmented";
    case RejectReason::gpu_capacity: return "gpu_capacity";
    case RejectReason::policy: return "policy";
  }
  return "?";
}

/// @brief One node's rejection of a request.
struct Rejection {
  std::size_t node_index = 0;
  std::string node;
  RejectReason reason = RejectReason::policy;
  std::string message;  ///< full sentence, starting with "node <name>: "
};

namespace detail {
inline std::string join_models(const std::vector<std::string>& v) {
  if (v.empty()) return "any";
  std::string s;
  for (const auto& m : v) s += (s.empty() ? "" : ", ") + m;
  return s;
}

// Free GPU capacity over the GPUs a request may use (healthy, accepted model).
struct GpuTotals {
  int eligible = 0, fit = 0, fit_milli = 0, fit_mib = 0;
  std::int64_t max_milli = 0, max_mib = 0, sum_milli = 0, sum_mib = 0;
};

inline GpuTotals gpu_totals(const NodeView& v, const Request& r) {
  GpuTotals t;
  for (int g = 0; g < v.gpu_count(); ++g) {
    const Gpu& gpu = v.gpu(g);
    if (!gpu.healthy || (r.constrains_models() && !r.accepts_model(gpu.model))) continue;
    ++t.eligible;
    const std::int64_t m = v.free_milli[g], y = v.free_mib[g];
    t.max_milli = std::max(t.max_milli, m);
    t.max_mib = std::max(t.max_mib, y);
    t.sum_milli += m;
    t.sum_mib += y;
    t.fit_milli += m >= r.gpu.milli;
    t.fit_mib += y >= r.gpu.mib;
    t.fit += m >= r.gpu.milli && y >= r.gpu.mib;
  }
  return t;
}

inline std::string gpu_shortage(const Request& r, const GpuTotals& t, bool& fragmented) {
  const std::int64_t need_milli = r.gpu.milli * r.gpu.count, need_mib = r.gpu.mib * r.gpu.count;
  fragmented = t.sum_milli >= need_milli && t.sum_mib >= need_mib;
  std::ostringstream os;
  if (r.gpu.count == 1) {
    if (t.fit_mib == 0) {
      os << "no single GPU has " << r.gpu.mib << " MiB free (largest free " << t.max_mib << " MiB); total free "
         << t.sum_mib << " MiB";
    } else if (t.fit_milli == 0) {
      os << "no single GPU has " << r.gpu.milli << " milli-GPU free (largest free " << t.max_milli
         << " milli-GPU); total free " << t.sum_milli << " milli-GPU";
    } else {
      os << "no single GPU has both " << r.gpu.milli << " milli-GPU and " << r.gpu.mib << " MiB free ("
         << t.fit_milli << " have the compute, " << t.fit_mib << " the memory); total free " << t.sum_milli
         << " milli-GPU, " << t.sum_mib << " MiB";
    }
  } else {
    os << "needs " << r.gpu.count << " GPUs with " << r.gpu.milli << " milli-GPU and " << r.gpu.mib
       << " MiB free each, only " << t.fit << " have that; total free " << t.sum_milli << " milli-GPU, "
       << t.sum_mib << " MiB";
  }
  return os.str();
}
}  // namespace detail

/// @brief Why node `v` cannot take `r`, or std::nullopt if it can (policy aside).
inline std::optional<Rejection> diagnose(const NodeView& v, const Request& r) {
  auto reject = [&](RejectReason why, const std::string& msg) {
    return Rejection{v.index, v.name(), why, "node " + v.name() + ": " + msg};
  };
  if (r.gpu.count > 0 && r.constrains_models()) {
    bool any = false;
    for (const Gpu& g : v.node->gpus) any = any || r.accepts_model(g.model);
    if (!any) {
      std::string have;
      for (const Gpu& g : v.node->gpus)
        if (have.find(g.model) == std::string::npos) have += (have.empty() ? "" : ", ") + g.model;
      return reject(RejectReason::gpu_model, "no GPU of an accepted model (node has " +
                                                 (have.empty() ? std::string("no GPUs") : have) + "; allowed: " +
                                                 detail::join_models(r.allowed_models) + "; denied: " +
                                                 (r.denied_models.empty() ? "none" : detail::join_models(r.denied_models)) + ")");
    }
  }
  if (v.free_cpu_milli < r.cpu_milli) {
    return reject(RejectReason::cpu, "insufficient CPU: requests " + std::to_string(r.cpu_milli) + " milli-CPU, " +
                                         std::to_string(v.free_cpu_milli) + " free");
  }
  if (v.free_host_mib < r.host_mib) {
    return reject(RejectReason::host_memory, "insufficient host memory: requests " + std::to_string(r.host_mib) +
                                                 " MiB, " + std::to_string(v.free_host_mib) + " free");
  }
  if (r.gpu.count == 0) return std::nullopt;
  if (r.gpu.count > v.gpu_count()) {
    return reject(RejectReason::gpu_count, "requests " + std::to_string(r.gpu.count) + " GPUs, node has " +
                                               std::to_string(v.gpu_count()));
  }
  const detail::GpuTotals t = detail::gpu_totals(v, r);
  if (t.eligible < r.gpu.count) {
    return reject(RejectReason::gpu_unhealthy, "requests " + std::to_string(r.gpu.count) + " GPUs, only " +
                                                   std::to_string(t.eligible) + " healthy GPUs of an accepted model");
  }
  if (t.fit >= r.gpu.count) return std::nullopt;
  bool fragmented = false;
  const std::string msg = detail::gpu_shortage(r, t, fragmented);
  return reject(fragmented ? RejectReason::gpu_fragmented : RejectReason::gpu_capacity, msg);
}

}  // namespace gpushare
