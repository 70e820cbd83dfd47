// StrandAwareFGD (alias "best"): registry entries, the online target never looks at pods that
// have not arrived yet, its pieces against hand-computed values, and the default-trace result
// with the full protocol (seeds 42..51, median) against FGD.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gpushare/sim/replay.hpp"

using namespace gpushare::sim;

namespace {
const std::string kDir = std::string(GPUSHARE_DATA_DIR) + "/openb";
}  // namespace

TEST_CASE("best policy: registered under its name and the alias, learning its target online") {
  const SimPolicy& a = sim_policy("StrandAwareFGD");
  const SimPolicy& b = sim_policy("best");
  REQUIRE(a.learns_target);
  REQUIRE(b.learns_target);
  REQUIRE(a.gpu_select == GpuSelect::from_score);
  REQUIRE_FALSE(sim_policy("FGD").learns_target);
  const auto names = sim_policy_names();
  REQUIRE(std::find(names.begin(), names.end(), "best") != names.end());
}

TEST_CASE("best policy: CPU per GPU and CPU-stranded GPU milli") {
  TargetWorkload tw;
  PodShape s1; s1.cpu = 8000; s1.milli = 1000; s1.num = 1;   // 8 cores per GPU
  PodShape s2; s2.cpu = 4000; s2.milli = 500; s2.num = 1;    // 8 cores per GPU too
  PodShape c; c.cpu = 2000;                                   // CPU-only: not counted
  tw.shapes = {{s1, 0.25}, {s2, 0.5}, {c, 0.25}};
  // (0.25*8000 + 0.5*4000) / (0.25*1000 + 0.5*500) * 1000 = 8000 milli-cores per GPU
  REQUIRE(cpu_per_gpu(tw) == Approx(8000.0));
  const int16_t left[4] = {1000, 1000, 500, 0};               // 2500 milli idle
  REQUIRE(cpu_stranded_milli(16000, left, 4, 8000.0) == Approx(500.0));  // CPU feeds 2 GPUs
  REQUIRE(cpu_stranded_milli(40000, left, 4, 8000.0) == Approx(0.0));
  REQUIRE(cpu_stranded_milli(0, left, 4, 8000.0) == Approx(2500.0));
  REQUIRE(cpu_stranded_milli(0, left, 4, 0.0) == Approx(0.0));  // no GPU workload seen yet

  // from_counts follows from_pods: most frequent first, cut at the coverage, weights renormalised.
  std::vector<PodShape> shapes{s1, s2, c};
  auto t = TargetWorkload::from_counts(shapes, {1, 6, 3}, 0.8);
  REQUIRE(t.shapes.size() == 2);
  REQUIRE(t.shapes[0].shape == s2);
  REQUIRE(t.shapes[0].weight == Approx(6.0 / 9.0));
  REQUIRE(t.cpu_only_weight == Approx(3.0 / 9.0));
}

TEST_CASE("best policy: decisions depend only on pods that have arrived (no peeking)") {
  // Timed mode, arrivals only: the first pods (120% of the GPU capacity, so
  // placement decides what fits) arrive at t = 0..n-1, a burst of different pods
  // afterwards. The learned-target policy must place the prefix identically whether or not
  // the later pods are in the trace; FGD, whose target is computed from the whole trace, shows
  // the check is sensitive.
  auto all_nodes = load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv");
  std::vector<SimNode> nodes;
  for (size_t i = 0; i < all_nodes.size(); i += 10) nodes.push_back(all_nodes[i]);
  auto def = load_openb_pods(kDir + "/openb_pod_list_default.csv");
  auto multi = load_openb_pods(kDir + "/openb_pod_list_multigpu50.csv");
  std::vector<SimPod> prefix;
  int64_t prefix_milli = 0, cap = 0;
  for (const auto& n : nodes) cap += int64_t(n.gpus) * 1000;
  for (size_t i = 0; i < def.size() && prefix_milli < cap * 12 / 10; ++i) {
    SimPod p = def[i];
    p.creation_time = int64_t(prefix.size());
    p.deletion_time = -1;
    prefix_milli += p.total_milli();
    prefix.push_back(p);
  }
  std::vector<SimPod> longer = prefix;
  int added = 0;
  for (int rep = 0; rep < 3; ++rep)
    for (const auto& q : multi)
      if (q.num_gpu >= 2) {
        SimPod p = q;
        p.name = "zz-later-" + std::to_string(added++);
        p.creation_time = 1000000 + added;
        p.deletion_time = -1;
        longer.push_back(p);
      }
  ReplayOptions opt;
  opt.timed = true;
  Replayer ra(nodes, prefix, opt), rb(nodes, longer, opt);
  const int last = int(prefix_milli * 100 / cap) - 1;  // bins holding prefix pods only
  // The fragmentation metric uses the whole-trace target in both runs, so compare placements
  // through the allocated share, bin by bin, over the bins that hold prefix pods only.
  auto same_alloc = [&](const std::string& policy) {
    auto a = ra.run(sim_policy(policy), 1), b = rb.run(sim_policy(policy), 1);
    for (int k = 0; k < last; ++k)
      if (a.steps[size_t(k)].allocated_pct != b.steps[size_t(k)].allocated_pct) return false;
    return a.pods_placed <= b.pods_placed;
  };
  REQUIRE(same_alloc("best"));
  REQUIRE(same_alloc("StrandAwareFGD"));
  REQUIRE_FALSE(same_alloc("FGD"));
}

TEST_CASE("best policy: default trace, full protocol, median over seeds 42..51 beats FGD") {
  Replayer r(load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv"),
             load_openb_pods(kDir + "/openb_pod_list_default.csv"));
  std::vector<std::vector<double>> best(21), fgd(21);
  for (uint64_t seed = 42; seed <= 51; ++seed) {
    auto b = r.run(sim_policy("best"), seed), f = r.run(sim_policy("FGD"), seed);
    for (int k = 80; k <= 100; ++k) {
      best[size_t(k - 80)].push_back(b.steps[size_t(k)].unallocated_pct);
      fgd[size_t(k - 80)].push_back(f.steps[size_t(k)].unallocated_pct);
    }
  }
  const double b100 = median(best[20]), f100 = median(fgd[20]);
  INFO("best " << b100 << "% unallocated at 100% arrived, FGD " << f100 << "%");
  // Measured: 4.16 vs 4.77 (the target of 3.8 is not reached; see docs/BEST_POLICY.md).
  REQUIRE(b100 <= 4.25);
  REQUIRE(b100 <= 0.9 * f100);
  for (int k = 80; k <= 100; ++k) {
    INFO("arrived " << k << "%: best " << median(best[size_t(k - 80)]) << ", FGD " << median(fgd[size_t(k - 80)]));
    REQUIRE(median(best[size_t(k - 80)]) <= median(fgd[size_t(k - 80)]) + 0.02);
  }
}
