// gpushare/conform/kueue_quota.hpp — runner of the kueue-quota conformance suite, and JSON
// loading of its case inputs into a QuotaState.  Needs nlohmann_json.
//
// @code
//   gpushare::conform::SuiteReport r = gpushare::conform::run_kueue_quota(suite, dir);
// @endcode
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "../solve/quota_admission.hpp"
#include "report.hpp"

namespace gpushare {
namespace conform {
namespace detail {

inline std::vector<FlavorQuota> kq_flavors(const nlohmann::json& j) {
  std::vector<FlavorQuota> out;
  if (!j.is_array()) return out;
  for (const auto& f : j) {
    FlavorQuota fq;
    fq.name = f.at("name").get<std::string>();
    for (auto it = f.at("resources").begin(); it != f.at("resources").end(); ++it) {
      ResourceQuota rq;
      rq.nominal = it.value().at("nominal").get<std::int64_t>();
      if (it.value().contains("borrowing_limit") && !it.value()["borrowing_limit"].is_null())
        rq.borrowing_limit = it.value()["borrowing_limit"].get<std::int64_t>();
      if (it.value().contains("lending_limit") && !it.value()["lending_limit"].is_null())
        rq.lending_limit = it.value()["lending_limit"].get<std::int64_t>();
      fq.resources[it.key()] = rq;
    }
    out.push_back(fq);
  }
  return out;
}

inline QuotaWorkload kq_workload(const nlohmann::json& w) {
  QuotaWorkload q;
  q.name = w.at("name").get<std::string>();
  q.queue = w.at("queue").get<std::string>();
  q.priority = w.value("priority", 0);
  if (w.contains("flavor") && w["flavor"].is_string()) q.flavor = w["flavor"].get<std::string>();
  for (auto it = w.at("requests").begin(); it != w.at("requests").end(); ++it) q.requests[it.key()] = it.value().get<std::int64_t>();
  q.creation = w.value("creation", std::int64_t{0});
  q.admitted_at = w.contains("admitted_at") && !w["admitted_at"].is_null() ? w["admitted_at"].get<std::int64_t>() : q.creation;
  return q;
}

}  // namespace detail

/// @brief Builds the quota state (tree + admitted workloads) of one kueue-quota case.
inline QuotaState kueue_case_state(const nlohmann::json& c) {
  QuotaTree t;
  if (c.contains("cohorts"))
    for (const auto& co : c["cohorts"])
      t.add_cohort(co.at("name").get<std::string>(), co.value("parent", nlohmann::json()).is_string() ? co["parent"].get<std::string>() : "",
                   detail::kq_flavors(co.value("flavors", nlohmann::json::array())));
  for (const auto& cq : c.at("cluster_queues")) {
    QueueSpec s;
    s.name = cq.at("name").get<std::string>();
    s.cohort = cq.value("cohort", nlohmann::json()).is_string() ? cq["cohort"].get<std::string>() : "";
    s.flavors = detail::kq_flavors(cq.at("flavors"));
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
          s.preemption.max_priority_threshold = b["max_priority_threshold"].get<int>();
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
    for (const auto& w : c["admitted"]) st.admit_existing(detail::kq_workload(w));
  return st;
}

/// @brief Runs the kueue-quota suite.
inline SuiteReport run_kueue_quota(const nlohmann::json& suite, const std::string& /*suite_dir*/) {
  SuiteReport rep;
  for (const auto& c : suite.at("cases")) {
    const std::string id = c.value("id", "?");
    nlohmann::json got;
    try {
      QuotaState st = kueue_case_state(c);
      const QuotaDecision d = admit(st, detail::kq_workload(c.at("incoming")));
      got = {{"admit", d.admit},
             {"flavor", d.admit ? nlohmann::json(d.flavor) : nlohmann::json()},
             {"borrows", d.admit && d.borrows},
             {"preempted", d.preempted}};
    } catch (const std::exception& e) {
      got = std::string("error: ") + e.what();
    }
    if (got == c.at("expect")) {
      ++rep.passed;
    } else {
      rep.failures.push_back({id, c.at("expect").dump(), got.dump()});
    }
  }
  return rep;
}

}  // namespace conform
}  // namespace gpushare
