// gpushare/modes/kueue/conform.hpp — runner of the kueue-quota conformance suite, and JSON
// loading of its case inputs into a QuotaState.  Needs nlohmann_json.
//
// @code
//   gpushare::conform::SuiteReport r = gpushare::conform::run_kueue_quota(suite, dir);
// @endcode
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gpushare/io/json_number.hpp"
#include "gpushare/solve/quota_admission.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {
namespace detail {

/// Largest quota or request a case may hold: keeps the quota sums far from 64-bit overflow.
constexpr std::int64_t kCaseMaxQuantity = 1000000000000000;  // 10^15

/// A JSON integer in [lo, hi] (io::json_integer: floats refused, range checked), errors prefixed
/// with the suite name.
inline std::int64_t kq_int(const nlohmann::json& v, const std::string& what, std::int64_t lo, std::int64_t hi) {
  return io::json_integer(v, "kueue-quota case: " + what, lo, hi);
}

inline std::optional<std::int64_t> kq_limit(const nlohmann::json& r, const char* key, const std::string& what) {
  if (!r.contains(key) || r[key].is_null()) return std::nullopt;
  return kq_int(r[key], what + "." + key, 0, kCaseMaxQuantity);
}

inline std::vector<FlavorQuota> kq_flavors(const nlohmann::json& j, const std::string& what) {
  std::vector<FlavorQuota> out;
  if (!j.is_array()) return out;
  for (const auto& f : j) {
    FlavorQuota fq;
    fq.name = f.at("name").get<std::string>();
    const auto& res = f.at("resources");
    if (!res.is_object()) throw ParseError("kueue-quota case: " + what + " flavor " + fq.name + ": resources must be an object");
    for (auto it = res.begin(); it != res.end(); ++it) {
      const std::string rw = what + " flavor " + fq.name + " resource " + it.key();
      ResourceQuota rq;
      rq.nominal = kq_int(it.value().at("nominal"), rw + ".nominal", 0, kCaseMaxQuantity);
      rq.borrowing_limit = kq_limit(it.value(), "borrowing_limit", rw);
      rq.lending_limit = kq_limit(it.value(), "lending_limit", rw);
      fq.resources[it.key()] = rq;
    }
    out.push_back(fq);
  }
  return out;
}

inline QuotaWorkload kq_workload(const nlohmann::json& w) {
  QuotaWorkload q;
  q.name = w.at("name").get<std::string>();
  const std::string what = "workload " + q.name;
  q.queue = w.at("queue").get<std::string>();
  if (w.contains("priority")) q.priority = static_cast<int>(kq_int(w["priority"], what + ".priority", INT32_MIN, INT32_MAX));
  if (w.contains("flavor") && w["flavor"].is_string()) q.flavor = w["flavor"].get<std::string>();
  const auto& req = w.at("requests");
  if (!req.is_object()) throw ParseError("kueue-quota case: " + what + ": requests must be an object");
  for (auto it = req.begin(); it != req.end(); ++it)
    q.requests[it.key()] = kq_int(it.value(), what + ".requests." + it.key(), 0, kCaseMaxQuantity);
  const std::int64_t tmax = std::int64_t{1} << 53;
  if (w.contains("creation")) q.creation = kq_int(w["creation"], what + ".creation", -tmax, tmax);
  q.admitted_at = w.contains("admitted_at") && !w["admitted_at"].is_null()
                      ? kq_int(w["admitted_at"], what + ".admitted_at", -tmax, tmax)
                      : q.creation;
  return q;
}

inline QuotaState kq_case_state(const nlohmann::json& c) {
  QuotaTree t;
  if (c.contains("cohorts"))
    for (const auto& co : c["cohorts"])
      t.add_cohort(co.at("name").get<std::string>(), co.value("parent", nlohmann::json()).is_string() ? co["parent"].get<std::string>() : "",
                   kq_flavors(co.value("flavors", nlohmann::json::array()), "cohort"));
  for (const auto& cq : c.at("cluster_queues")) {
    QueueSpec s;
    s.name = cq.at("name").get<std::string>();
    s.cohort = cq.value("cohort", nlohmann::json()).is_string() ? cq["cohort"].get<std::string>() : "";
    s.flavors = kq_flavors(cq.at("flavors"), "cluster queue " + s.name);
    if (cq.contains("preemption")) {
      const auto& p = cq["preemption"];
      const std::string w = p.value("within_cluster_queue", "Never");
      s.preemption.within_queue = w == "LowerPriority" ? WithinQueuePolicy::lower_priority
                                  : w == "LowerOrNewerEqualPriority" ? WithinQueuePolicy::lower_or_newer_equal_priority
                                                                      : WithinQueuePolicy::never;
      const std::string r = p.value("reclaim_within_cohort", "Never");
      s.preemption.reclaim_within_cohort = r == "LowerPriority" ? ReclaimPolicy::lower_priority
                                           : r == "Any"         ? ReclaimPolicy::any
                                                                : ReclaimPolicy::never;
      if (p.contains("borrow_within_cohort")) {
        const auto& b = p["borrow_within_cohort"];
        s.preemption.borrow_within_cohort = b.value("policy", "Never") == "LowerPriority";
        if (b.contains("max_priority_threshold") && !b["max_priority_threshold"].is_null())
          s.preemption.max_priority_threshold = static_cast<int>(
              kq_int(b["max_priority_threshold"], "cluster queue " + s.name + " max_priority_threshold", INT32_MIN, INT32_MAX));
      }
    }
    if (cq.contains("flavor_fungibility")) {
      const auto& f = cq["flavor_fungibility"];
      s.fungibility.stop_when_can_borrow = f.value("when_can_borrow", "Borrow") != "TryNextFlavor";
      s.fungibility.stop_when_can_preempt = f.value("when_can_preempt", "TryNextFlavor") != "TryNextFlavor";
      s.fungibility.preemption_over_borrowing = f.value("preference", "BorrowingOverPreemption") == "PreemptionOverBorrowing";
    }
    t.add_queue(s);
  }
  t.finalize();
  QuotaState st(std::move(t));
  if (c.contains("admitted"))
    for (const auto& w : c["admitted"]) st.admit_existing(kq_workload(w));
  return st;
}

}  // namespace detail

/// @brief Builds the quota state (tree + admitted workloads) of one kueue-quota case.  A case
/// that is not shaped as the suite's README says throws ParseError (wrong type, missing field)
/// or InvalidArgument (a number out of range); no other exception escapes.
inline QuotaState kueue_case_state(const nlohmann::json& c) {
  try {
    return detail::kq_case_state(c);
  } catch (const nlohmann::json::exception& e) {
    throw ParseError(std::string("kueue-quota case: ") + e.what());
  }
}

/// @brief The incoming workload of a kueue-quota case (same errors as kueue_case_state).
inline QuotaWorkload kueue_case_workload(const nlohmann::json& w) {
  try {
    return detail::kq_workload(w);
  } catch (const nlohmann::json::exception& e) {
    throw ParseError(std::string("kueue-quota case: incoming: ") + e.what());
  }
}

/// @brief Runs the kueue-quota suite.
inline SuiteReport run_kueue_quota(const nlohmann::json& suite, const std::string& /*suite_dir*/) {
  auto produce = [](const nlohmann::json& c) -> nlohmann::json {
    QuotaState st = kueue_case_state(c);
    const QuotaDecision d = admit(st, kueue_case_workload(c.at("incoming")));
    return {{"admit", d.admit},
            {"flavor", d.admit ? nlohmann::json(d.flavor) : nlohmann::json()},
            {"borrows", d.admit && d.borrows},
            {"preempted", d.preempted}};
  };
  return run_cases(suite, produce, std::equal_to<>());
}

}  // namespace conform
}  // namespace gpushare
