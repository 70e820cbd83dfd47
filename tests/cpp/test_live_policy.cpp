// fgd and best on the live path: the openb default trace fed pod by pod through observe() +
// schedule() + Cluster::allocate, with the replay's submission order and tie-break priorities,
// makes exactly the simulator's decisions (node and GPUs of every pod, hence the same allocation
// at every 1% of arrived demand), seed by seed.  Plus the catalogue: names, aliases, errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/convert.hpp"
#include "gpushare/sim/replay.hpp"

using namespace gpushare;
using namespace gpushare::sim;

namespace {
const std::string kDir = std::string(GPUSHARE_DATA_DIR) + "/openb";

struct Trace {
  std::vector<SimNode> nodes = load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv");
  std::vector<SimPod> pods = load_openb_pods(kDir + "/openb_pod_list_default.csv");
};

const Trace& trace() {
  static const Trace t;
  return t;
}

// Feeds the replay's submissions of `seed` through the live API; returns the decisions and
// checks, at every 1% of arrived GPU demand, that the allocated GPU milli matches the replay's
// decisions so far.
void check_live_equals_replay(const std::string& policy_name, std::uint64_t seed, bool fixed_target) {
  const Trace& t = trace();
  ReplayOptions opt;
  opt.record_decisions = true;
  const Replayer rep(t.nodes, t.pods, opt);
  const ReplayResult res = rep.run(sim_policy(policy_name), seed);
  const ReplayPlan plan = rep.plan(seed);
  REQUIRE(plan.pods.size() == res.decisions.size());

  std::vector<SimPod> by_name = t.pods;
  std::stable_sort(by_name.begin(), by_name.end(), [](const SimPod& a, const SimPod& b) { return a.name < b.name; });

  Cluster cluster;
  for (const auto& n : t.nodes) cluster.add_node(to_model_node(n));
  AnyPolicy any = make_policy(policy_name);
  auto& live = std::get<LivePolicy>(any);
  live.set_node_priority(plan.node_priority);
  if (fixed_target) live.set_target(rep.target());  // the paper's FGD is told the trace's workload
  for (const auto& p : by_name) live.register_shape(to_model_request(p));  // the replay's shape numbering

  ScheduleOptions so;
  so.explain = false;
  const std::int64_t cap = rep.cluster_gpu_milli();
  std::int64_t arrived = 0, replay_used = 0;
  std::int64_t next_pct = 1;
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < plan.pods.size(); ++k) {
    Request r = to_model_request(by_name[plan.pods[k]]);
    r.name = "pod-" + std::to_string(k);
    AnyPolicy& p = any;
    observe(p, cluster, r);
    const ScheduleResult s = schedule(cluster, r, p, so);
    PodDecision d;
    if (s) {
      d.node = static_cast<std::int32_t>(s.placement->node_index);
      for (int g : s.placement->gpus) d.gpus |= 1u << g;
      cluster.allocate(*s.placement);
    }
    if (d != res.decisions[k] && ++mismatches <= 3)
      FAIL_CHECK(policy_name << " seed " << seed << " pod " << k << ": live node " << d.node << " gpus " << d.gpus
                             << ", replay node " << res.decisions[k].node << " gpus " << res.decisions[k].gpus);
    const std::int64_t milli = r.gpu.count > 0 ? r.gpu.milli * r.gpu.count : 0;
    arrived += milli;
    if (res.decisions[k].node >= 0) replay_used += milli;
    while (next_pct * cap <= arrived * 100) {  // every 1% of arrived demand
      std::int64_t used = 0;
      for (std::size_t i = 0; i < cluster.size(); ++i) {
        const NodeView v = cluster.view(i);
        for (int g = 0; g < v.gpu_count(); ++g) used += v.gpu(g).milli_total - v.free_milli[g];
      }
      REQUIRE(used == replay_used);
      ++next_pct;
    }
  }
  REQUIRE(mismatches == 0);
  REQUIRE(next_pct > 100);  // the trace arrives past 100% of capacity
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const NodeView v = cluster.view(i);
    std::int64_t used = 0;
    for (int g = 0; g < v.gpu_count(); ++g) used += v.gpu(g).milli_total - v.free_milli[g];
    REQUIRE(used == res.node_used_milli[i]);
  }
}
}  // namespace

TEST_CASE("catalogue: kebab-case names, old spellings as aliases, one row per rule") {
  for (const char* n : {"best-fit", "binpack", "spread", "first-fit", "random", "fgd", "best", "dot-prod",
                        "gpu-packing", "strand-aware-fgd"})
    REQUIRE_NOTHROW(make_policy(n));
  REQUIRE(&sim_policy("fgd") == &sim_policy("FGD"));
  REQUIRE(&sim_policy("best") == &sim_policy("HostReservingFGD"));
  REQUIRE(sim_policy("paper-best-fit").name == "BestFit");
  REQUIRE(find_policy("BestFit")->name == "paper-best-fit");  // the paper's rule, not best-fit
  REQUIRE(find_policy("best-fit")->sim == nullptr);
  CHECK_THROWS_WITH(make_policy("BestFit"), Catch::Contains("simulator only") && Catch::Contains("best-fit"));
  CHECK_THROWS_WITH(make_policy("nope"), Catch::Contains("unknown name 'nope'") && Catch::Contains("best"));
  CHECK_THROWS_AS(sim_policy("best-fit"), NotFound);
  std::vector<std::string> all;
  for (const auto& row : catalogue()) {
    all.push_back(row.name);
    for (const auto& a : row.aliases) all.push_back(a);
    REQUIRE((row.live() || row.sim));
    REQUIRE(!row.description.empty());
  }
  std::vector<std::string> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  REQUIRE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());  // no name twice
}

TEST_CASE("live fgd: a learning policy places and learns; nodes it cannot score are rejected with a reason") {
  Cluster c;
  Node a{"a", 64000, 262144, {}, {}};
  for (int g = 0; g < 4; ++g) a.gpus.push_back({g, "T4", 1000, 15360});
  c.add_node(a);
  Node odd{"odd", 64000, 262144, {}, {}};
  odd.gpus.push_back({0, "T4", 2000, 15360});  // not a 1000-milli GPU: not scored by fgd
  c.add_node(odd);
  AnyPolicy p = make_policy("fgd");
  Request r;
  r.name = "r";
  r.cpu_milli = 4000;
  r.gpu = {1, 500, 1024};
  observe(p, c, r);
  REQUIRE(std::get<LivePolicy>(p).observed() == 1);
  ScheduleResult s = schedule(c, r, p);
  REQUIRE(s);
  REQUIRE(s.placement->node == "a");
  c.allocate(*s.placement);
  Request big = r;
  big.name = "big";
  big.gpu = {1, 500, 1 << 20};  // more GPU memory than any GPU has
  ScheduleResult none = schedule(c, big, p);
  REQUIRE_FALSE(none);
  REQUIRE(none.explain().find("fits on no node") != std::string::npos);
  // GPU memory without compute (aliyun.com/gpu-mem): still gets a GPU, by best fit on memory.
  Request mem = r;
  mem.name = "mem";
  mem.gpu = {1, 0, 4096};
  ScheduleResult m = schedule(c, mem, p);
  REQUIRE(m);
  REQUIRE(m.placement->gpus.size() == 1);
  c.allocate(*m.placement);
  REQUIRE(c.free_mib(0, m.placement->gpus[0]) < 15360);
}

TEST_CASE("live fgd = the simulator's FGD, pod by pod, on the openb default trace", "[slow]") {
  for (std::uint64_t seed : {42u, 43u}) check_live_equals_replay("FGD", seed, true);
}

TEST_CASE("live best = the simulator's best, pod by pod, on the openb default trace", "[slow]") {
  for (std::uint64_t seed : {42u, 43u}) check_live_equals_replay("best", seed, false);
}
