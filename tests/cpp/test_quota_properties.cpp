// Quota invariants over random quota trees and workload streams:
//  - usage never exceeds nominal plus borrowing limit, and no root hands out more than its
//    pooled capacity (recomputed from scratch, counting only lendable quota of each child);
//  - the incrementally kept usage equals a from-scratch recomputation;
//  - every preemption set is minimal: putting back any single victim makes the incoming
//    workload no longer fit under the rule that selected the set (docs/QUOTA.md);
//  - admitting then finishing everything returns every usage to zero;
//  - a failed admit changes nothing.
#include <catch2/catch.hpp>

#include <random>

#include <gpushare/solve/quota_admission.hpp>

using namespace gpushare;

namespace {

QuotaTree random_tree(std::mt19937& rng, int& nqueues) {
  auto U = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
  const std::vector<std::string> flavors = {"h100", "a100"};
  auto rand_flavors = [&](int nf, int maxq) {
    std::vector<FlavorQuota> out;
    for (int i = 0; i < nf; ++i) {
      ResourceQuota rq;
      rq.nominal = U(0, maxq);
      if (U(0, 2) == 0) rq.borrowing_limit = U(0, 6);
      if (U(0, 2) == 0) rq.lending_limit = U(0, static_cast<int>(rq.nominal));
      out.push_back({flavors[i], {{"gpu", rq}}});
    }
    return out;
  };
  QuotaTree t;
  const int nf = U(1, 2);
  const int ncohorts = U(0, 4);
  for (int c = 0; c < ncohorts; ++c) {
    const std::string parent = c == 0 || U(0, 2) == 0 ? "" : "c" + std::to_string(U(0, c - 1));
    t.add_cohort("c" + std::to_string(c), parent, U(0, 1) ? rand_flavors(nf, 4) : std::vector<FlavorQuota>{});
  }
  nqueues = U(1, 6);
  for (int i = 0; i < nqueues; ++i) {
    QueueSpec q;
    q.name = "q" + std::to_string(i);
    q.cohort = ncohorts > 0 && U(0, 4) ? "c" + std::to_string(U(0, ncohorts - 1)) : "";
    q.flavors = rand_flavors(nf, 8);
    q.preemption.within_queue = static_cast<WithinQueuePolicy>(U(0, 2));
    q.preemption.reclaim_within_cohort = static_cast<ReclaimPolicy>(U(0, 2));
    q.preemption.borrow_within_cohort = U(0, 1) == 1;
    if (U(0, 1)) q.preemption.max_priority_threshold = U(-1, 2);
    q.fungibility.stop_when_can_borrow = U(0, 1) == 1;
    q.fungibility.stop_when_can_preempt = U(0, 1) == 1;
    q.fungibility.preemption_over_borrowing = U(0, 1) == 1;
    t.add_queue(q);
  }
  t.finalize();
  return t;
}

void check_limits(const QuotaTree& t) {
  const auto& n = t.nodes();
  for (std::size_t k = 0; k < t.fr_count(); ++k) {
    // From-scratch recomputation of cohort usage.
    std::vector<std::int64_t> u(n.size(), 0);
    std::vector<int> order(n.size());
    for (std::size_t i = 0; i < n.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return n[a].depth > n[b].depth; });
    for (int i : order) {
      if (n[i].is_queue) u[i] = n[i].usage[k];
      REQUIRE(u[i] == n[i].usage[k]);
      if (n[i].parent >= 0) u[n[i].parent] += std::max<std::int64_t>(0, u[i] - t.guaranteed(i, static_cast<int>(k)));
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
      REQUIRE(n[i].usage[k] >= 0);
      if (n[i].borrowing[k]) REQUIRE(n[i].usage[k] <= n[i].subtree_quota[k] + *n[i].borrowing[k]);
      if (n[i].parent < 0) {
        // pooled capacity of a root: own nominal + lendable part of each child subtree
        std::int64_t cap = n[i].nominal[k];
        for (int c : n[i].children) {
          const std::int64_t lend = n[c].lending[k] ? std::min(*n[c].lending[k], n[c].subtree_quota[k]) : n[c].subtree_quota[k];
          cap += lend;
        }
        REQUIRE(n[i].subtree_quota[k] == cap);
        REQUIRE(n[i].usage[k] <= cap);
      }
    }
  }
}

detail::FrRequest request_of(const QuotaTree& t, const QuotaWorkload& w, const std::string& flavor) {
  detail::FrRequest r;
  for (const auto& kv : w.requests)
    if (kv.second) r.emplace_back(t.fr_index(flavor, kv.first), kv.second);
  return r;
}

}  // namespace

TEST_CASE("quota invariants over random trees and workload streams") {
  std::mt19937 rng(20261123);
  int decisions = 0, with_victims = 0;
  for (int trial = 0; trial < 300; ++trial) {
    int nq = 0;
    QuotaState st(random_tree(rng, nq));
    auto U = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
    std::vector<std::string> names;
    for (int step = 0; step < 60; ++step) {
      if (!names.empty() && U(0, 4) == 0) {
        const int i = U(0, static_cast<int>(names.size()) - 1);
        if (st.is_admitted(names[i])) st.finish(names[i]);
        names.erase(names.begin() + i);
        check_limits(st.tree());
        continue;
      }
      QuotaWorkload w;
      w.name = "w" + std::to_string(step);
      w.queue = "q" + std::to_string(U(0, nq - 1));
      w.priority = U(-2, 2);
      w.requests["gpu"] = U(1, 5);
      w.creation = step;
      w.admitted_at = step;
      const std::vector<std::int64_t> before = [&] {
        std::vector<std::int64_t> v;
        for (const auto& n : st.tree().nodes()) v.insert(v.end(), n.usage.begin(), n.usage.end());
        return v;
      }();
      const QuotaDecision d = admit(st, w);
      ++decisions;
      {
        std::vector<std::int64_t> after;
        for (const auto& n : st.tree().nodes()) after.insert(after.end(), n.usage.begin(), n.usage.end());
        REQUIRE(after == before);  // admit() leaves the state unchanged
      }
      if (!d.admit) {
        REQUIRE(!d.reason.empty());
        continue;
      }
      const int q = st.tree().queue_node(w.queue);
      const auto req = request_of(st.tree(), w, d.flavor);
      if (!d.preempted.empty()) {
        ++with_victims;
        // Minimality: with all victims gone it fits; putting any one back breaks the fit.
        QuotaTree& t = st.tree_mut();
        std::vector<QuotaWorkload> victims;
        for (const auto& v : st.admitted())
          if (std::find(d.preempted.begin(), d.preempted.end(), v.name) != d.preempted.end()) victims.push_back(v);
        REQUIRE(victims.size() == d.preempted.size());
        for (const auto& v : victims) t.add_workload_usage(v, -1);
        REQUIRE(detail::fits(t, q, req, d.fit_height));
        for (const auto& v : victims) {
          t.add_workload_usage(v, +1);
          REQUIRE_FALSE(detail::fits(t, q, req, d.fit_height));
          t.add_workload_usage(v, -1);
        }
        for (const auto& v : victims) t.add_workload_usage(v, +1);
      } else {
        REQUIRE(detail::fits(st.tree(), q, req, -1));
      }
      commit(st, w, d);
      names.push_back(w.name);
      for (const auto& v : d.preempted) names.erase(std::find(names.begin(), names.end(), v));
      check_limits(st.tree());
    }
    for (const auto& w : st.admitted()) st.finish(w.name);
    REQUIRE(st.admitted_count() == 0);
    for (const auto& n : st.tree().nodes())
      for (auto u : n.usage) REQUIRE(u == 0);
  }
  CHECK(decisions > 5000);
  CHECK(with_victims > 50);
}

TEST_CASE("quota errors name the input and change nothing") {
  QuotaTree t;
  QueueSpec q;
  q.name = "team";
  q.flavors.push_back({"a100", {{"gpu", {2, std::nullopt, std::nullopt}}}});
  t.add_queue(q);
  REQUIRE_THROWS_AS(t.add_queue(q), ConflictError);
  t.finalize();
  REQUIRE_THROWS_AS(t.add_cohort("x", ""), ConflictError);
  QuotaState st(std::move(t));
  QuotaWorkload w{"w", "nope", 0, "", {{"gpu", 1}}, 0, 0};
  REQUIRE_THROWS_AS(admit(st, w), NotFound);
  REQUIRE_THROWS_AS(st.finish("w"), NotFound);
  w.queue = "team";
  w.requests["gpu"] = 3;
  const QuotaDecision d = admit(st, w);
  REQUIRE_FALSE(d.admit);
  REQUIRE(d.reason.find("team") != std::string::npos);
  REQUIRE(d.reason.find("a100") != std::string::npos);
  REQUIRE_THROWS_AS(commit(st, w, d), InvalidArgument);
  w.requests["gpu"] = 2;
  const QuotaDecision ok = admit(st, w);
  REQUIRE(ok.admit);
  commit(st, w, ok);
  REQUIRE_THROWS_AS(st.admit_existing(w), ConflictError);
}
