// gpushare/model/limits.hpp — the largest sizes gpushare accepts, and the checks that use them.
//
// Anything beyond these is treated as a mistake in the input (a unit slip such as bytes given
// where MiB are expected), not as a real machine, and is rejected with a message naming the
// field.  They are far above any real hardware so no genuine cluster trips them.
#pragma once

#include <cstdint>
#include <string>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace limits {

inline constexpr std::int64_t max_milli_per_gpu = 1000000;          ///< compute of one GPU
inline constexpr std::int64_t max_mib_per_gpu = std::int64_t{1} << 30;   ///< 1 PiB of GPU memory
inline constexpr std::int64_t max_cpu_milli = std::int64_t{1} << 40;     ///< ~1e9 cores
inline constexpr std::int64_t max_host_mib = std::int64_t{1} << 40;      ///< 1 EiB of host memory
inline constexpr int max_gpus_per_node = 1024;                           ///< GPUs on one node
inline constexpr int max_gpus_per_request = 1024;                        ///< GPUs in one request

}  // namespace limits

namespace detail {

/// Throws InvalidArgument "<what>: <field> must be in [lo, hi], got v" unless lo <= v <= hi.
inline void check_range(const std::string& what, const char* field, std::int64_t v, std::int64_t lo,
                        std::int64_t hi) {
  if (v < lo || v > hi) {
    throw InvalidArgument(what + ": " + field + " must be in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "], got " + std::to_string(v));
  }
}

}  // namespace detail
}  // namespace gpushare
