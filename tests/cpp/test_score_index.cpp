// ScoreIndex (the replay's per-request score trees) against a brute-force pass over every node,
// and the fast replay engine against the reference engine where the index has to work hardest:
// memory that binds, more distinct (shape, memory) requests than it keeps exact trees for,
// departures (timed mode) and a repeated node list (many nodes in the same state).
#include <catch2/catch.hpp>

#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/replay.hpp"
#include "gpushare/sim/score_index.hpp"

using namespace gpushare::sim;

namespace {
const std::string kDir = std::string(GPUSHARE_DATA_DIR) + "/openb";

/// The brute force: highest score among nodes the request fits, smallest priority among equals.
int64_t brute_best(const SimState& st, const PodShape& s, int64_t mem, const std::vector<uint32_t>& prio,
                   const SimPolicy& pol, const TargetWorkload& tw) {
  int64_t pick = -1, best = 0;
  for (size_t i = 0; i < st.size(); ++i) {
    if (!fits(st.node(i), s, mem)) continue;
    const int64_t v = pol.score(st.node(i), s, tw, nullptr);
    if (pick < 0 || v > best || (v == best && prio[i] < prio[size_t(pick)])) best = v, pick = int64_t(i);
  }
  return pick;
}

void ensure_equal_runs(const Replayer& r, const std::string& policy, uint64_t seed) {
  INFO(policy << " seed " << seed);
  const ReplayResult a = r.run(sim_policy(policy), seed, Engine::fast);
  const ReplayResult b = r.run(sim_policy(policy), seed, Engine::reference);
  REQUIRE(a.pods_placed == b.pods_placed);
  REQUIRE(a.node_used_milli == b.node_used_milli);
  for (size_t k = 0; k < a.steps.size(); ++k) REQUIRE(a.steps[k].allocated_pct == b.steps[k].allocated_pct);
}
}  // namespace

TEST_CASE("ScoreIndex picks what a pass over every node picks, through placements and departures") {
  std::mt19937_64 rng(7);
  const auto all = load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv");
  const auto pods = load_openb_pods(kDir + "/openb_pod_list_default.csv");
  const TargetWorkload tw = TargetWorkload::from_pods(pods);
  for (const char* name : {"FGD", "BestFit", "GpuPacking", "DotProd", "GpuClustering"}) {
    const SimPolicy& pol = sim_policy(name);
    for (bool tree_checks_mem : {true, false}) {
      INFO(name << (tree_checks_mem ? ", memory in the leaves" : ", memory at the query"));
      // 37 nodes (not a power of two), memory cut so that it binds.
      std::vector<SimNode> nodes;
      for (size_t i = 0; i < 37; ++i) {
        SimNode n = all[(i * 31) % all.size()];
        n.memory_mib = 20000 + int64_t(rng() % 60000);
        nodes.push_back(n);
      }
      SimState st(nodes);
      std::vector<uint32_t> prio(nodes.size());
      for (size_t i = 0; i < prio.size(); ++i) prio[i] = uint32_t(i);
      std::shuffle(prio.begin(), prio.end(), rng);
      // A few request kinds: (shape, memory).
      std::vector<std::pair<PodShape, int64_t>> kinds;
      for (size_t k = 0; k < 12; ++k) {
        const SimPod& p = pods[(k * 677) % pods.size()];
        kinds.push_back({shape_of(p), int64_t(rng() % 30000)});
      }
      ScoreIndex idx;
      idx.reset(st, prio, kinds.size());
      struct Placed { size_t node, kind; int gpus[kMaxGpusPerNode]; };
      std::vector<Placed> placed;
      for (int step = 0; step < 400; ++step) {
        if (!placed.empty() && rng() % 4 == 0) {  // a departure
          const size_t j = rng() % placed.size();
          const Placed p = placed[j];
          st.remove(p.node, kinds[p.kind].first, kinds[p.kind].second, p.gpus);
          idx.touch(st, p.node);
          placed.erase(placed.begin() + std::ptrdiff_t(j));
          continue;
        }
        const size_t k = rng() % kinds.size();
        const PodShape& s = kinds[k].first;
        const int64_t mem = kinds[k].second;
        const int64_t tree_mem = tree_checks_mem ? mem : std::numeric_limits<int64_t>::min();
        const int64_t got = idx.best(st, uint32_t(k), s, tree_mem, mem,
                                     [&](size_t i) { return pol.score(st.node(i), s, tw, nullptr); });
        const int64_t want = brute_best(st, s, mem, prio, pol, tw);
        INFO("step " << step << " kind " << k);
        REQUIRE(got == want);
        if (got < 0) {
          if (rng() % 8 == 0) idx.invalidate_all();  // every score again (a rebuilt target)
          continue;
        }
        Placed p{size_t(got), k, {}};
        const NodeState& n = st.node(p.node);
        if (s.is_share()) p.gpus[0] = best_fit_gpu(n, s);
        else exclusive_gpus(n, s, p.gpus);
        st.place(p.node, s, mem, p.gpus);
        idx.touch(st, p.node);
        placed.push_back(p);
      }
    }
  }
}

TEST_CASE("fast engine equals the reference where memory binds and requests outnumber exact trees") {
  const auto all = load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv");
  auto pods = load_openb_pods(kDir + "/openb_pod_list_default.csv");
  std::vector<SimNode> nodes;
  for (size_t i = 0; i < all.size(); i += 12) {
    SimNode n = all[i];
    n.memory_mib /= 6;  // memory binds
    nodes.push_back(n);
  }
  SECTION("distinct memory per pod: more (shape, memory) requests than exact trees") {
    for (size_t i = 0; i < pods.size(); ++i) pods[i].memory_mib = int64_t(i % 4000) * 7;
    const Replayer r(nodes, pods);
    for (const char* p : {"FGD", "BestFit", "best", "GpuClustering"}) ensure_equal_runs(r, p, 3);
  }
  SECTION("the trace's own memory requests, protocol and timed mode") {
    for (bool timed : {false, true}) {
      ReplayOptions o;
      o.timed = timed;
      const Replayer r(nodes, pods, o);
      for (const char* p : {"FGD", "BestFit", "best", "GpuPacking", "DotProd"}) ensure_equal_runs(r, p, 5);
    }
  }
}

TEST_CASE("fast engine equals the reference on a repeated node list") {
  const auto all = load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv");
  std::vector<SimNode> nodes;
  for (int copy = 0; copy < 3; ++copy)
    for (size_t i = 0; i < all.size(); i += 24) {
      SimNode n = all[i];
      n.name += "-r" + std::to_string(copy);
      nodes.push_back(n);
    }
  const Replayer r(nodes, load_openb_pods(kDir + "/openb_pod_list_default.csv"));
  for (const char* p : {"FGD", "BestFit", "best", "GpuClustering"}) ensure_equal_runs(r, p, 11);
}
