// gpushare/solve/quota_schedule.hpp — admit a request through the quota, then place it.
//
// `schedule_with_quota` admits the request (queue = `request.tenant`, priority =
// `request.priority`, resource "gpu" = count x milli in milli-GPU) through `quota`, skipping
// flavors whose GPU model the request does not accept, restricts the request's GPU models to
// the admitted flavor (the flavor name is the GPU model), and places it
// with the policy.  If the decision evicts victims, placement is computed on a copy of the cluster
// with the victims' allocations released.  On success both are committed: victims are released
// from the cluster and the quota, the placement is allocated and the workload recorded in the
// quota.  On failure nothing changes and the result says whether the quota or the placement
// refused.
//
// @code
//   gpushare::QuotaScheduleResult r = gpushare::schedule_with_quota(cluster, req, gpushare::BestFit{}, quota);
//   if (!r.placed()) std::cerr << r.explain() << "\n";
// @endcode
#pragma once

#include <algorithm>
#include <string>
#include <utility>

#include "quota_admission.hpp"
#include "schedule.hpp"

namespace gpushare {

/// @brief Outcome of `schedule_with_quota`.
struct QuotaScheduleResult {
  QuotaDecision decision;   ///< the quota's decision
  ScheduleResult schedule;  ///< the placement attempt (empty if the quota refused)
  /// @brief True if the request was admitted and placed (and both were committed).
  bool placed() const { return decision.admit && schedule.placement.has_value(); }
  /// @brief Why it was placed or not.
  std::string explain() const {
    if (!decision.admit) return "request " + schedule.request + " not admitted by quota: " + decision.reason;
    return "quota admitted flavor " + decision.flavor + (decision.borrows ? " (borrowing)" : "") + "; " + schedule.explain();
  }
};

/// @brief The quota workload for a cluster request: queue = tenant, "gpu" in milli-GPU.
inline QuotaWorkload quota_workload_of(const Request& r, std::int64_t creation = 0) {
  QuotaWorkload w;
  w.name = r.name;
  w.queue = r.tenant;
  w.priority = r.priority;
  w.requests["gpu"] = static_cast<std::int64_t>(r.gpu.count) * r.gpu.milli;
  w.creation = creation;
  w.admitted_at = creation;
  return w;
}

/// @brief Admits `request` through `quota`, then places it on the admitted GPU model; commits
/// both on success.  `creation` is the queue-order time used for equal-priority preemption.
template <class Policy>
QuotaScheduleResult schedule_with_quota(Cluster& cluster, const Request& request, Policy&& policy, QuotaState& quota,
                                        std::int64_t creation = 0, const ScheduleOptions& options = {}) {
  validate(request);
  if (request.tenant.empty()) throw InvalidArgument("request " + request.name + ": tenant (quota queue) is empty");
  QuotaScheduleResult out;
  out.schedule.request = request.name;
  const QuotaWorkload w = quota_workload_of(request, creation);
  out.decision = admit(quota, w, [&](const std::string& model) { return request.accepts_model(model); });
  if (!out.decision.admit) return out;
  Request r = request;
  r.allowed_models = {out.decision.flavor};
  if (out.decision.preempted.empty()) {
    out.schedule = schedule(cluster, r, std::forward<Policy>(policy), options);
  } else {
    Cluster trial = cluster;
    for (const auto& v : out.decision.preempted)
      if (trial.allocation(v)) trial.release(v);
    out.schedule = schedule(trial, r, std::forward<Policy>(policy), options);
  }
  if (!out.schedule.placement) return out;
  for (const auto& v : out.decision.preempted)
    if (cluster.allocation(v)) cluster.release(v);
  cluster.allocate(*out.schedule.placement);
  commit(quota, w, out.decision);
  return out;
}

}  // namespace gpushare
