// schedule_with_quota: admission picks the flavor (GPU model), placement honours it, both are
// committed on success, preemption releases the victims in the cluster, and refusals change
// nothing.
#include <catch2/catch.hpp>

#include <gpushare/gpushare.hpp>
#include <gpushare/solve/quota_schedule.hpp>

using namespace gpushare;

namespace {

Cluster make_cluster() {
  Cluster c;
  Node a{"node-a100", 32000, 262144, {}, {}};
  for (int g = 0; g < 2; ++g) a.gpus.push_back({g, "A100", 1000, 81920});
  Node h{"node-h100", 32000, 262144, {}, {}};
  for (int g = 0; g < 2; ++g) h.gpus.push_back({g, "H100", 1000, 81920});
  c.add_node(std::move(a));
  c.add_node(std::move(h));
  return c;
}

QuotaState make_quota() {
  QuotaTree t;
  QueueSpec q;
  q.name = "team";
  q.flavors.push_back({"A100", {{"gpu", {1000, std::nullopt, std::nullopt}}}});
  q.flavors.push_back({"H100", {{"gpu", {2000, std::nullopt, std::nullopt}}}});
  q.preemption.within_queue = WithinQueuePolicy::lower_priority;
  t.add_queue(q);
  return QuotaState(std::move(t));
}

Request req(const std::string& name, int prio) {
  Request r;
  r.name = name;
  r.cpu_milli = 1000;
  r.host_mib = 1024;
  r.gpu = {1, 1000, 1024};
  r.tenant = "team";
  r.priority = prio;
  return r;
}

}  // namespace

TEST_CASE("schedule_with_quota follows the admitted flavor and commits both") {
  Cluster c = make_cluster();
  QuotaState q = make_quota();
  auto r1 = schedule_with_quota(c, req("j1", 0), BestFit{}, q, 1);
  REQUIRE(r1.placed());
  CHECK(r1.decision.flavor == "A100");
  CHECK(r1.schedule.placement->node == "node-a100");
  auto r2 = schedule_with_quota(c, req("j2", 0), BestFit{}, q, 2);
  REQUIRE(r2.placed());
  CHECK(r2.decision.flavor == "H100");  // A100 quota (1 GPU) is used up, cluster still has room
  CHECK(r2.schedule.placement->node == "node-h100");
  auto r3 = schedule_with_quota(c, req("j3", 0), BestFit{}, q, 3);
  REQUIRE(r3.placed());
  CHECK(r3.schedule.placement->node == "node-h100");
  CHECK(q.admitted_count() == 3);
  CHECK(c.allocation_count() == 3);

  // Quota full everywhere, equal priority: refused, nothing changes.
  const auto before = c.snapshot();
  auto r4 = schedule_with_quota(c, req("j4", 0), BestFit{}, q, 4);
  CHECK_FALSE(r4.placed());
  CHECK_FALSE(r4.decision.admit);
  CHECK(r4.explain().find("team") != std::string::npos);
  CHECK(c.snapshot() == before);
  CHECK(q.admitted_count() == 3);

  // Higher priority: preempts the most recently admitted lowest-priority workload on the first
  // flavor that has a victim, and takes its GPU.
  auto r5 = schedule_with_quota(c, req("j5", 5), BestFit{}, q, 5);
  REQUIRE(r5.placed());
  REQUIRE(r5.decision.preempted.size() == 1);
  const std::string victim = r5.decision.preempted[0];
  CHECK(c.allocation(victim) == nullptr);
  CHECK_FALSE(q.is_admitted(victim));
  CHECK(c.allocation_count() == 3);
  CHECK(q.admitted_count() == 3);

  // Finishing everything empties quota and cluster.
  for (const auto& w : q.admitted()) {
    c.release(w.name);
    q.finish(w.name);
  }
  for (const auto& n : q.tree().nodes())
    for (auto u : n.usage) CHECK(u == 0);
  CHECK(c.free_gpu_milli() == c.total_gpu_milli());
}

TEST_CASE("schedule_with_quota skips flavors the request does not allow") {
  Cluster c = make_cluster();
  QuotaState q = make_quota();
  Request r = req("j", 0);
  r.allowed_models = {"H100"};
  auto res = schedule_with_quota(c, r, BestFit{}, q);
  REQUIRE(res.placed());
  CHECK(res.decision.flavor == "H100");
  CHECK(res.schedule.placement->node == "node-h100");
  r.name = "k";
  r.allowed_models = {"V100"};
  auto none = schedule_with_quota(c, r, BestFit{}, q);
  CHECK_FALSE(none.placed());
  CHECK(none.decision.reason.find("not allowed") != std::string::npos);
  CHECK(q.admitted_count() == 1);
  CHECK(c.allocation_count() == 1);
  r.tenant = "";
  CHECK_THROWS_AS(schedule_with_quota(c, r, BestFit{}, q), InvalidArgument);
}

TEST_CASE("schedule_with_quota falls back to the next admissible flavor when the admitted one has no room") {
  // The A100 node is full (taken outside the quota); the quota still admits A100 first.
  Cluster c = make_cluster();
  Request outside = req("outside", 0);
  outside.gpu = {2, 1000, 1024};
  outside.allowed_models = {"A100"};
  c.allocate(*schedule(c, outside, BestFit{}).placement);
  QuotaState q = make_quota();
  auto r = schedule_with_quota(c, req("j1", 0), BestFit{}, q, 1);
  REQUIRE(r.placed());
  CHECK(r.decision.flavor == "H100");
  CHECK(r.schedule.placement->node == "node-h100");
  CHECK(r.flavors_without_room == std::vector<std::string>{"A100"});
  CHECK(r.explain().find("no room on flavor(s) A100") != std::string::npos);
  // The quota records the workload on H100, not on A100.
  const QuotaTree& t = q.tree();
  CHECK(t.nodes()[t.queue_node("team")].usage[t.fr_index("H100", "gpu")] == 1000);
  CHECK(t.nodes()[t.queue_node("team")].usage[t.fr_index("A100", "gpu")] == 0);

  // Fill H100 too: the quota admits (A100 then H100) but neither has room: nothing changes.
  auto r2 = schedule_with_quota(c, req("j2", 0), BestFit{}, q, 2);
  REQUIRE(r2.placed());
  const auto before = c.snapshot();
  auto r3 = schedule_with_quota(c, req("j3", 0), BestFit{}, q, 3);
  CHECK_FALSE(r3.placed());
  CHECK(r3.decision.admit);  // the last admitting decision is kept
  CHECK(r3.flavors_without_room.size() >= 1);
  CHECK(r3.explain().find("no node of those models has room") != std::string::npos);
  CHECK(c.snapshot() == before);
  CHECK(q.admitted_count() == 2);
}

TEST_CASE("schedule_with_quota without the fallback flavor in quota reports the placement failure") {
  Cluster c = make_cluster();
  Request outside = req("outside", 0);
  outside.gpu = {2, 1000, 1024};
  outside.allowed_models = {"A100"};
  c.allocate(*schedule(c, outside, BestFit{}).placement);
  QuotaState q = make_quota();
  Request r = req("only-a100", 0);
  r.allowed_models = {"A100"};
  auto res = schedule_with_quota(c, r, BestFit{}, q, 1);
  CHECK_FALSE(res.placed());
  CHECK(res.decision.admit);
  CHECK(res.decision.flavor == "A100");
  CHECK(res.flavors_without_room == std::vector<std::string>{"A100"});
  CHECK(q.admitted_count() == 0);
}
