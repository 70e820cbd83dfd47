// Tenant replay: with unlimited quota it equals the plain replay; per-tenant invariants
// (admitted + waiting = submitted, usage within the limits, same seed same result); the flavor
// fallback; waiting pods retried when quota is released (timed mode); tenant assignment.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/tenant_replay.hpp"

using namespace gpushare;
using namespace gpushare::sim;

namespace {

const std::string kDir = std::string(GPUSHARE_DATA_DIR) + "/openb";

/// A slice of the openb default trace: every 8th node, every 4th pod (keeps the test quick).
struct Slice {
  std::vector<SimNode> nodes;
  std::vector<SimPod> pods;
};
const Slice& openb_slice() {
  static const Slice s = [] {
    Slice out;
    auto nodes = load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv");
    auto pods = load_openb_pods(kDir + "/openb_pod_list_default.csv");
    for (size_t i = 0; i < nodes.size(); i += 8) out.nodes.push_back(nodes[i]);
    for (size_t i = 0; i < pods.size(); i += 4) out.pods.push_back(pods[i]);
    return out;
  }();
  return s;
}

const std::vector<TenantShare> kTenants{{"prod", 3}, {"dev", 2}, {"research", 1}};

QuotaTree unlimited_any() {
  QuotaTree t;
  for (const auto& ts : kTenants) {
    QueueSpec q;
    q.name = ts.name;
    q.flavors.push_back({"any", {{"gpu", {int64_t{1000000000000000}, std::nullopt, std::nullopt}}}});
    t.add_queue(q);
  }
  return t;
}

}  // namespace

namespace {

void require_same_as_plain(const ReplayOptions& opt, const std::string& policy, uint64_t seed) {
  const Slice& sl = openb_slice();
  Replayer plain(sl.nodes, sl.pods, opt);
  TenantReplayer tr(sl.nodes, sl.pods, kTenants, unlimited_any(), opt);
  const ReplayResult a = plain.run(sim_policy(policy), seed);
  const TenantReplayResult b = tr.run(sim_policy(policy), seed);
  INFO(policy << " seed " << seed << (opt.timed ? " timed" : " protocol"));
  CHECK(b.pods_submitted == a.pods_submitted);
  CHECK(b.pods_placed == a.pods_placed);
  CHECK(b.pods_failed == a.pods_failed);
  CHECK(b.pods_waiting == 0);
  CHECK(b.allocated_milli == a.allocated_milli);
  CHECK(b.node_used_milli == a.node_used_milli);
  int64_t admitted = 0, submitted = 0;
  for (const auto& t : b.tenants) admitted += t.admitted_milli, submitted += t.submitted_milli;
  CHECK(submitted == a.arrived_milli);
  if (!opt.timed) CHECK(admitted == a.allocated_milli);  // nothing departs in protocol mode
}

/// Per-tenant invariants of any tenant replay result.
void check_invariants(const TenantReplayResult& r, const TenantReplayer& tr) {
  int64_t pods = 0;
  for (const auto& t : r.tenants) {
    INFO("tenant " << t.tenant);
    CHECK(t.admitted_milli + t.waiting_milli == t.submitted_milli);
    CHECK(t.pods_placed + t.pods_failed + t.pods_waiting == t.pods_submitted);
    CHECK(t.pods_retried <= t.pods_placed);
    pods += t.pods_submitted;
    int64_t by_flavor = 0;
    for (const auto& f : r.flavors)
      if (f.tenant == t.tenant) by_flavor += f.admitted_milli;
    CHECK(by_flavor == t.admitted_milli);
  }
  CHECK(pods == r.pods_submitted);
  for (const auto& f : r.flavors) {
    INFO(f.tenant << " / " << f.flavor);
    CHECK(f.peak_usage_milli >= 0);
    if (f.borrowing_limit_milli) CHECK(f.peak_usage_milli <= f.nominal_milli + *f.borrowing_limit_milli);
  }
  (void)tr;
}

}  // namespace

TEST_CASE("tenant replay with unlimited quota equals the plain replay") {
  ReplayOptions protocol;
  for (const char* pol : {"FGD", "BestFit", "Random", "best"}) require_same_as_plain(protocol, pol, 42);
  ReplayOptions timed;
  timed.timed = true;
  for (const char* pol : {"FGD", "Random", "best"}) require_same_as_plain(timed, pol, 7);
}

TEST_CASE("tenant replay under shares: per-tenant invariants, limits, determinism") {
  const Slice& sl = openb_slice();
  for (bool timed : {false, true}) {
    for (bool cohort : {false, true}) {
      ReplayOptions opt;
      opt.timed = timed;
      TenantQuotaOptions qo;
      qo.cohort = cohort;
      if (cohort) qo.borrowing_limit_milli = 4000;
      if (timed) qo.capacity_share = 0.05;  // the slice is lightly loaded over time: a tight quota
      const QuotaTree q = tenant_quota_from_shares(sl.nodes, kTenants, qo);
      TenantReplayer tr(sl.nodes, sl.pods, kTenants, q, opt);
      INFO((timed ? "timed" : "protocol") << (cohort ? " cohort" : " no cohort"));
      const TenantReplayResult r = tr.run(sim_policy("FGD"), 42);
      check_invariants(r, tr);
      int64_t retried = 0, borrowing = 0;
      for (const auto& t : r.tenants) retried += t.pods_retried, borrowing += t.pods_borrowing;
      if (cohort) {
        CHECK(borrowing > 0);  // tenants use each other's unused quota
      } else if (timed) {
        CHECK(retried > 0);  // waiting pods got in when others finished
      } else {
        CHECK(r.pods_waiting > 0);  // 1.3x capacity, each tenant held to its share
      }
      for (const auto& f : r.flavors) {
        INFO(f.tenant << " / " << f.flavor);
        if (!cohort) CHECK(f.peak_usage_milli <= f.nominal_milli);  // no cohort: never beyond nominal
      }
      if (!cohort)
        for (const auto& t : r.tenants) CHECK(t.pods_borrowing == 0);
      if (!timed) {
        int64_t admitted = 0;
        for (const auto& t : r.tenants) admitted += t.admitted_milli;
        CHECK(admitted == r.allocated_milli);
      } else {
        CHECK(r.allocated_milli == 0);  // every openb pod has a deletion time: all departed
      }
      // Same seed, same result; the tenants' demand does not depend on the seed in timed mode.
      const TenantReplayResult again = tr.run(sim_policy("FGD"), 42);
      CHECK(again.node_used_milli == r.node_used_milli);
      for (size_t i = 0; i < r.tenants.size(); ++i) {
        CHECK(again.tenants[i].admitted_milli == r.tenants[i].admitted_milli);
        CHECK(again.tenants[i].waiting_milli == r.tenants[i].waiting_milli);
        CHECK(again.tenants[i].pods_retried == r.tenants[i].pods_retried);
      }
    }
  }
}

TEST_CASE("tenant assignment: seeded hash of the pod name, shares follow the weights") {
  const Slice& sl = openb_slice();
  std::map<size_t, int> count;
  for (const auto& p : sl.pods) count[tenant_of_pod(p.name, kTenants, 0)]++;
  const double n = double(sl.pods.size());
  CHECK(count[0] / n == Approx(0.5).margin(0.03));
  CHECK(count[1] / n == Approx(1.0 / 3).margin(0.03));
  CHECK(count[2] / n == Approx(1.0 / 6).margin(0.03));
  CHECK(tenant_of_pod("openb-pod-0001", kTenants, 5) == tenant_of_pod("openb-pod-0001", kTenants, 5));
  int moved = 0;
  for (const auto& p : sl.pods) moved += tenant_of_pod(p.name, kTenants, 0) != tenant_of_pod(p.name, kTenants, 1);
  CHECK(moved > 0);  // another assignment seed, another assignment
  CHECK_THROWS_AS(tenant_of_pod("x", {}, 0), InvalidArgument);
}

namespace {
SimNode node(const std::string& name, const std::string& model, int gpus) { return {name, 64000, 262144, gpus, model}; }
SimPod pod(const std::string& name, int gpus, int64_t create, int64_t remove, std::vector<std::string> spec = {}) {
  return {name, 1000, 1024, gpus, 1000, std::move(spec), create, remove};
}
QuotaTree one_queue(const std::string& name, std::vector<FlavorQuota> flavors) {
  QuotaTree t;
  QueueSpec q;
  q.name = name;
  q.flavors = std::move(flavors);
  t.add_queue(q);
  return t;
}
}  // namespace

TEST_CASE("tenant replay falls back to the next admissible flavor when the admitted model has no room") {
  const std::vector<SimNode> nodes{node("n-t4", "T4", 1), node("n-g2", "G2", 1)};
  const std::vector<SimPod> pods{pod("p1", 1, 0, -1), pod("p2", 1, 1, -1), pod("p3", 1, 2, -1, {"T4"})};
  const QuotaTree q = one_queue("team", {{"T4", {{"gpu", {2000, std::nullopt, std::nullopt}}}},
                                         {"G2", {{"gpu", {2000, std::nullopt, std::nullopt}}}}});
  ReplayOptions opt;
  opt.timed = true;  // submission in creation order
  TenantReplayer tr(nodes, pods, {{"team", 1}}, q, opt);
  const TenantReplayResult r = tr.run(sim_policy("BestFit"), 1);
  // p1 -> T4; p2: T4 quota left but no T4 room -> G2; p3 may only use T4: quota admits, no room.
  REQUIRE(r.flavors.size() == 2);
  CHECK(r.flavors[0].flavor == "T4");
  CHECK(r.flavors[0].admitted_milli == 1000);
  CHECK(r.flavors[1].admitted_milli == 1000);
  CHECK(r.tenants[0].pods_placed == 2);
  CHECK(r.tenants[0].pods_failed == 1);
  CHECK(r.tenants[0].pods_waiting == 0);
  CHECK(r.node_used_milli == std::vector<int64_t>{1000, 1000});
}

TEST_CASE("timed tenant replay: pods refused by quota wait and are retried when quota is released") {
  const std::vector<SimNode> nodes{node("n1", "T4", 4)};
  // Quota 1 GPU.  a runs [0, 10); b arrives at 5 and waits; c (same tenant) at 6 waits behind b.
  const std::vector<SimPod> pods{pod("a", 1, 0, 10), pod("b", 1, 5, 8), pod("c", 1, 6, 7)};
  const QuotaTree q = one_queue("team", {{"T4", {{"gpu", {1000, std::nullopt, std::nullopt}}}}});
  ReplayOptions opt;
  opt.timed = true;
  TenantReplayer tr(nodes, pods, {{"team", 1}}, q, opt);
  const TenantReplayResult r = tr.run(sim_policy("BestFit"), 1);
  const TenantStats& t = r.tenants[0];
  CHECK(t.pods_submitted == 3);
  CHECK(t.pods_placed == 3);  // b at 10 (runs 3 s, to 13), then c at 13
  CHECK(t.pods_retried == 2);
  CHECK(t.waiting_milli == 0);
  CHECK(r.flavors[0].peak_usage_milli == 1000);
  CHECK(r.allocated_milli == 0);
  // Protocol mode: nothing departs, so b and c wait for good.
  TenantReplayer once(nodes, pods, {{"team", 1}}, q);
  const TenantReplayResult p = once.run(sim_policy("BestFit"), 1);
  CHECK(p.tenants[0].admitted_milli == 1000);
  CHECK(p.tenants[0].pods_waiting + p.tenants[0].pods_placed == p.tenants[0].pods_submitted);
  CHECK(p.tenants[0].waiting_milli == p.tenants[0].submitted_milli - 1000);
}

TEST_CASE("tenant replay input errors") {
  const std::vector<SimNode> nodes{node("n1", "T4", 1)};
  const std::vector<SimPod> pods{pod("a", 1, 0, 10)};
  const QuotaTree q = one_queue("team", {{"T4", {{"gpu", {1000, std::nullopt, std::nullopt}}}}});
  CHECK_THROWS_AS(TenantReplayer(nodes, pods, {{"other", 1}}, q), NotFound);
  CHECK_THROWS_AS(TenantReplayer(nodes, pods, {{"team", 0}}, q), InvalidArgument);
  CHECK_THROWS_AS(TenantReplayer(nodes, pods, {{"team", 1}, {"team", 1}}, q), InvalidArgument);
  CHECK_THROWS_AS(TenantReplayer(nodes, pods, {}, q), InvalidArgument);
  const QuotaTree bad = one_queue("team", {{"A100", {{"gpu", {1000, std::nullopt, std::nullopt}}}}});
  try {
    TenantReplayer tr(nodes, pods, {{"team", 1}}, bad);
    FAIL("an unknown model flavor must be refused");
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()).find("'A100'") != std::string::npos);
  }
  TenantQuotaOptions qo;
  qo.cohort = false;
  qo.borrowing_limit_milli = 1;
  CHECK_THROWS_AS(tenant_quota_from_shares(nodes, {{"team", 1}}, qo), InvalidArgument);
}

TEST_CASE("tenant_quota_from_shares splits each model's capacity by weight") {
  const std::vector<SimNode> nodes{node("a", "T4", 4), node("b", "G2", 8), node("c", "T4", 2), node("cpu", "", 0)};
  const QuotaTree t = tenant_quota_from_shares(nodes, {{"x", 2}, {"y", 1}});
  const QueueSpec& x = t.queue_spec(t.queue_node("x"));
  REQUIRE(x.flavors.size() == 2);
  CHECK(x.flavors[0].name == "G2");  // most GPUs first
  CHECK(x.flavors[0].resources.at("gpu").nominal == 5333);
  CHECK(x.flavors[1].resources.at("gpu").nominal == 4000);
  CHECK(x.cohort == "cluster");
  TenantQuotaOptions any;
  any.any_model = true;
  const QuotaTree a = tenant_quota_from_shares(nodes, {{"x", 1}}, any);
  CHECK(a.queue_spec(a.queue_node("x")).flavors.at(0).name == "any");
  CHECK(a.queue_spec(a.queue_node("x")).flavors.at(0).resources.at("gpu").nominal == 14000);
}
