// gpushare/solve/quota_schedule.hpp — admit a request through the quota, then place it.
//
// `schedule_with_quota` admits the request (queue = `request.tenant`, priority =
// `request.priority`, resource "gpu" = count x milli in milli-GPU) through `quota`, skipping
// flavors whose GPU model the request does not accept, restricts the request's GPU models to
// the admitted flavor (the flavor name is the GPU model), and places it
// with the policy.  If the decision evicts victims, placement is computed on a copy of the cluster
// with the victims' allocations released.  If no node of the admitted model has room, that flavor
// is set aside and admission runs again over the queue's remaining flavors (in the queue's order,
// with the same fungibility rules), until a flavor both admits and places or none is left.  On
// success both are committed: victims are released from the cluster and the quota, the placement
// is allocated and the workload recorded in the quota.  On failure nothing changes and the result
// says whether the quota or the placement refused.
//
// @code
//   gpushare::QuotaScheduleResult r = gpushare::schedule_with_quota(cluster, req, gpushare::BestFit{}, quota);
//   if (!r.placed()) std::cerr << r.explain() << "\n";
// @endcode
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gpushare/solve/quota_admission.hpp"
#include "gpushare/solve/schedule.hpp"

namespace gpushare {

/// @brief Outcome of `schedule_with_quota`.
struct QuotaScheduleResult {
  QuotaDecision decision;   ///< the quota's decision (the last admitting one if placement failed)
  ScheduleResult schedule;  ///< the placement attempt (empty if the quota refused)
  /// Flavors the quota admitted but where no node had room, in the order tried.
  std::vector<std::string> flavors_without_room;
  /// @brief True if the request was admitted and placed (and both were committed).
  bool placed() const { return decision.admit && schedule.placement.has_value(); }
  /// @brief Why it was placed or not.
  std::string explain() const {
    if (!decision.admit) return "request " + schedule.request + " not admitted by quota: " + decision.reason;
    std::string tried;
    for (const auto& f : flavors_without_room) tried += (tried.empty() ? "" : ", ") + f;
    if (!placed()) return "quota admitted flavor(s) " + tried + " but no node of those models has room; " + schedule.explain();
    return "quota admitted flavor " + decision.flavor + (decision.borrows ? " (borrowing)" : "") + "; " +
           (tried.empty() ? "" : "no room on flavor(s) " + tried + " tried first; ") + schedule.explain();
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
  auto usable = [&](const std::string& model) {
    return request.accepts_model(model) && std::find(out.flavors_without_room.begin(), out.flavors_without_room.end(),
                                                     model) == out.flavors_without_room.end();
  };
  for (;;) {
    QuotaDecision d = admit(quota, w, usable);
    if (!d.admit) {
      // Keep the last admitting decision (and why its placement failed) when there was one.
      if (out.flavors_without_room.empty()) out.decision = std::move(d);
      return out;
    }
    Request r = request;
    r.allowed_models = {d.flavor};
    ScheduleResult s;
    if (d.preempted.empty()) {
      s = schedule(cluster, r, policy, options);
    } else {
      Cluster trial = cluster;
      for (const auto& v : d.preempted)
        if (trial.allocation(v)) trial.release(v);
      s = schedule(trial, r, policy, options);
    }
    out.decision = std::move(d);
    out.schedule = std::move(s);
    if (out.schedule.placement) break;
    out.flavors_without_room.push_back(out.decision.flavor);
  }
  if (!out.schedule.placement) return out;
  for (const auto& v : out.decision.preempted)
    if (cluster.allocation(v)) cluster.release(v);
  cluster.allocate(*out.schedule.placement);
  commit(quota, w, out.decision);
  return out;
}

}  // namespace gpushare
