// gpushare/model/request.hpp — what a workload (a pod) asks for.
//
// A GPU demand is `count` distinct GPUs, each needing `milli` compute and `mib` memory.
// `count > 1` with `milli < 1000` is allowed (HAMi style); `milli == 1000` is a whole GPU.
//
// @code
//   gpushare::Request r;
//   r.name = "train-7";
//   r.cpu_milli = 8000;
//   r.gpu = {2, 1000, 40960};     // two whole GPUs with 40 GiB each
//   r.allowed_models = {"A100"};
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "gpushare/model/limits.hpp"

namespace gpushare {

/// @brief `count` distinct GPUs, each with at least `milli` compute and `mib` memory free.
struct GpuDemand {
  int count = 0;          ///< number of distinct GPUs
  std::int64_t milli = 0; ///< compute per GPU in milli-GPU (1000 = whole GPU)
  std::int64_t mib = 0;   ///< memory per GPU in MiB

  friend bool operator==(const GpuDemand& a, const GpuDemand& b) {
    return a.count == b.count && a.milli == b.milli && a.mib == b.mib;
  }
  friend bool operator!=(const GpuDemand& a, const GpuDemand& b) { return !(a == b); }
};

/// @brief A workload to place: CPU, host memory, GPU demand and constraints.
struct Request {
  std::string name;                         ///< unique name of the workload (e.g. namespace/pod)
  std::int64_t cpu_milli = 0;               ///< CPU in milli-cores
  std::int64_t host_mib = 0;                ///< host memory in MiB
  GpuDemand gpu;                            ///< GPU demand
  std::vector<std::string> allowed_models;  ///< GPU models it may use; empty = any
  std::vector<std::string> denied_models;   ///< GPU models it must not use
  std::string tenant;                       ///< owning tenant / namespace / queue
  int priority = 0;                         ///< higher is more important

  /// @brief True if a GPU of `model` satisfies the allowed/denied lists.
  bool accepts_model(const std::string& model) const {
    auto has = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), model) != v.end();
    };
    if (!allowed_models.empty() && !has(allowed_models)) return false;
    return !has(denied_models);
  }

  /// @brief True if the request restricts GPU models at all.
  bool constrains_models() const { return !allowed_models.empty() || !denied_models.empty(); }

  friend bool operator==(const Request& a, const Request& b) {
    return a.name == b.name && a.cpu_milli == b.cpu_milli && a.host_mib == b.host_mib &&
           a.gpu == b.gpu && a.allowed_models == b.allowed_models &&
           a.denied_models == b.denied_models && a.tenant == b.tenant && a.priority == b.priority;
  }
  friend bool operator!=(const Request& a, const Request& b) { return !(a == b); }
};

/// @brief Checks a request's fields; throws InvalidArgument naming the request and the field.
inline void validate(const Request& r) {
  const std::string what = "request " + (r.name.empty() ? std::string("<unnamed>") : r.name);
  detail::check_range(what, "cpu_milli", r.cpu_milli, 0, limits::max_cpu_milli);
  detail::check_range(what, "host_mib", r.host_mib, 0, limits::max_host_mib);
  detail::check_range(what, "gpu.count", r.gpu.count, 0, limits::max_gpus_per_request);
  detail::check_range(what, "gpu.milli", r.gpu.milli, 0, 1000);
  detail::check_range(what, "gpu.mib", r.gpu.mib, 0, limits::max_mib_per_gpu);
  if (r.gpu.count == 0 && (r.gpu.milli != 0 || r.gpu.mib != 0)) {
    throw InvalidArgument(what + ": gpu.milli and gpu.mib must be 0 when gpu.count is 0");
  }
  if (r.gpu.count > 0 && r.gpu.milli == 0 && r.gpu.mib == 0) {
    throw InvalidArgument(what + ": gpu.count is " + std::to_string(r.gpu.count) +
                          " but neither gpu.milli nor gpu.mib is set");
  }
}

inline std::ostream& operator<<(std::ostream& os, const Request& r) {
  os << "Request(name='" << r.name << "', cpu_milli=" << r.cpu_milli << ", host_mib=" << r.host_mib
     << ", gpu_count=" << r.gpu.count << ", gpu_milli=" << r.gpu.milli << ", gpu_mib=" << r.gpu.mib;
  if (!r.tenant.empty()) os << ", tenant='" << r.tenant << "'";
  if (r.priority != 0) os << ", priority=" << r.priority;
  return os << ")";
}

}  // namespace gpushare
