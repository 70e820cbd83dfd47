// gpushare/solve/schedule.hpp — the generic scheduler: one request, one cluster, one policy.
//
// `schedule` checks every node (CPU, host memory, GPU models, GPU fit), lets the policy choose
// GPUs and score each feasible node, and returns the best placement — the highest score, the
// lowest node index on ties.  It never changes the cluster: pass the placement to
// `Cluster::allocate` to commit it.  When nothing fits, the result lists per node why.
//
// Fast paths (same answers as the full scan, checked by tests):
//  - policies with `first_feasible_wins` (FirstFit) stop at the first feasible node;
//  - policies with `uses_free_gpu_index` (BestFit) answer single-GPU requests from the
//    cluster's FreeGpuIndex in logarithmic time instead of scanning every GPU.
//
// @code
//   gpushare::ScheduleResult r = gpushare::schedule(cluster, req, gpushare::BestFit{});
//   if (r) cluster.allocate(*r.placement);
//   else   std::cerr << r.explain() << '\n';
// @endcode
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/solve/explain.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/node_policies.hpp"
#include "gpushare/solve/score.hpp"

namespace gpushare {

/// @brief Knobs of `schedule`.
struct ScheduleOptions {
  bool explain = true;    ///< on failure, fill `rejections` with every node's reason
  bool use_index = true;  ///< allow index fast paths (off = plain scan, for benchmarks and tests)
};

/// @brief The outcome of `schedule`: a placement, or every node's reason for refusing.
struct ScheduleResult {
  std::optional<Placement> placement;  ///< set when the request fits somewhere
  Score score;                         ///< the winning node's score
  std::vector<Rejection> rejections;   ///< per-node reasons, filled only on failure (if asked)
  std::string request;                 ///< the request's name

  explicit operator bool() const { return placement.has_value(); }

  /// @brief A human-readable account: where it went, or why it fits nowhere (at most
  /// `max_nodes` nodes listed, then a count per reason).
  std::string explain(std::size_t max_nodes = 20) const {
    std::ostringstream os;
    if (placement) {
      os << "request " << request << " placed on node " << placement->node << " GPUs [";
      for (std::size_t i = 0; i < placement->gpus.size(); ++i) os << (i ? ", " : "") << placement->gpus[i];
      os << "]";
      return os.str();
    }
    os << "request " << request << " fits on no node";
    if (rejections.empty()) return os.str() + " (the cluster has no nodes)";
    os << " (" << rejections.size() << " nodes rejected):";
    std::map<std::string, std::size_t> by_reason;
    for (std::size_t i = 0; i < rejections.size(); ++i) {
      ++by_reason[to_string(rejections[i].reason)];
      if (i < max_nodes) os << "\n  " << rejections[i].message;
    }
    if (rejections.size() > max_nodes) {
      os << "\n  ... and " << rejections.size() - max_nodes << " more; by reason:";
      for (const auto& kv : by_reason) os << " " << kv.first << "=" << kv.second;
    }
    return os.str();
  }
};

namespace detail {
template <class P, class = void>
struct first_feasible_wins : std::false_type {};
template <class P>
struct first_feasible_wins<P, std::void_t<decltype(P::first_feasible_wins)>>
    : std::bool_constant<P::first_feasible_wins> {};

template <class P, class = void>
struct uses_free_gpu_index : std::false_type {};
template <class P>
struct uses_free_gpu_index<P, std::void_t<decltype(P::uses_free_gpu_index)>>
    : std::bool_constant<P::uses_free_gpu_index> {};

// Policies may bring their own GPU choice: bool choose_gpus(const NodeView&, const Request&, GpuChoice&).
template <class P, class = void>
struct has_choose_gpus : std::false_type {};
template <class P>
struct has_choose_gpus<P, std::void_t<decltype(std::declval<P&>().choose_gpus(
                              std::declval<const NodeView&>(), std::declval<const Request&>(),
                              std::declval<GpuChoice&>()))>> : std::true_type {};

}  // namespace detail

/// @brief GPUs of one node for `r` under `policy`: the policy's own `choose_gpus` if it has
/// one, otherwise `choose_gpus(v, r, policy.gpu_fit, c)`.  False if the demand does not fit.
template <class P>
bool policy_choose_gpus(P& policy, const NodeView& v, const Request& r, GpuChoice& c) {
  if constexpr (detail::has_choose_gpus<P>::value) {
    return policy.choose_gpus(v, r, c);
  } else {
    return choose_gpus(v, r, policy.gpu_fit, c);
  }
}

/// @brief The Placement of request `r` on node `node` of `c` with the given GPUs.
inline Placement make_placement(const Cluster& c, std::size_t node, const Request& r, std::vector<int> gpus) {
  Placement p;
  p.request = r.name;
  p.node = c.nodes()[node].name;
  p.node_index = node;
  p.gpus = std::move(gpus);
  p.milli_per_gpu = p.gpus.empty() ? 0 : r.gpu.milli;
  p.mib_per_gpu = p.gpus.empty() ? 0 : r.gpu.mib;
  p.cpu_milli = r.cpu_milli;
  p.host_mib = r.host_mib;
  return p;
}

namespace detail {
inline bool node_resources_fit(const NodeView& v, const Request& r) {
  return v.free_cpu_milli >= r.cpu_milli && v.free_host_mib >= r.host_mib;
}

// Single-GPU best fit from the index: the first key (least free milli, then MiB, then lowest
// global id) on a node with room for the CPU and host memory.
template <class P>
std::optional<ScheduleResult> schedule_from_index(const Cluster& c, const Request& r, P& policy) {
  if (r.gpu.count != 1 || policy.gpu_fit != GpuFit::best) return std::nullopt;
  std::size_t node = 0;
  int gpu = 0;
  const FreeGpuIndex::Key* k = c.free_gpu_index().find_first(r.gpu.milli, r.gpu.mib, [&](const FreeGpuIndex::Key& key) {
    node = c.node_of_gpu(static_cast<std::size_t>(key.gpu));
    gpu = static_cast<int>(static_cast<std::size_t>(key.gpu) - c.gpu_offset(node));
    const NodeView v = c.view(node);
    return node_resources_fit(v, r) && (!r.constrains_models() || r.accepts_model(v.gpu(gpu).model));
  });
  if (!k) return std::nullopt;  // the scan explains the failure
  ScheduleResult out;
  out.request = r.name;
  GpuChoice choice;
  choice.gpus = {gpu};
  choice.remaining_milli = k->free_milli - r.gpu.milli;
  choice.remaining_mib = k->free_mib - r.gpu.mib;
  const std::optional<Score> s = policy.score(c.view(node), r, choice);
  if (!s) return std::nullopt;
  out.score = *s;
  out.placement = gpushare::make_placement(c, node, r, {gpu});
  return out;
}
}  // namespace detail

/// @brief Places `request` on the best node of `cluster` under `policy`, without changing
/// the cluster.  Throws InvalidArgument if the request itself is malformed.
///
/// Ties between equal scores go to the lowest node index; inside a node the policy's GPU
/// rule decides (see gpu_choice.hpp).
template <class Policy>
ScheduleResult schedule(const Cluster& cluster, const Request& request, Policy&& policy,
                        const ScheduleOptions& options = {}) {
  using P = std::decay_t<Policy>;
  validate(request);
  if constexpr (detail::uses_free_gpu_index<P>::value) {
    if (options.use_index) {
      if (auto fast = detail::schedule_from_index(cluster, request, policy)) return std::move(*fast);
    }
  }
  ScheduleResult out;
  out.request = request.name;
  GpuChoice choice, best_choice;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const NodeView v = cluster.view(i);
    if (!detail::node_resources_fit(v, request) || !policy_choose_gpus(policy, v, request, choice)) continue;
    const std::optional<Score> s = policy.score(v, request, choice);
    if (!s) continue;
    if (!best || *s > out.score) {
      best = i;
      out.score = *s;
      std::swap(best_choice, choice);
      if constexpr (detail::first_feasible_wins<P>::value) {
        if (options.use_index) break;
      }
    }
  }
  if (best) {
    out.placement = make_placement(cluster, *best, request, std::move(best_choice.gpus));
    return out;
  }
  if (options.explain) {
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      const NodeView v = cluster.view(i);
      if (auto rej = diagnose(v, request)) {
        out.rejections.push_back(std::move(*rej));
      } else {
        out.rejections.push_back(Rejection{i, v.name(), RejectReason::policy,
                                           "node " + v.name() + ": rejected by policy " + std::string(policy.name())});
      }
    }
  }
  return out;
}

}  // namespace gpushare
