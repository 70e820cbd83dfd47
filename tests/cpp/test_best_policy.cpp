// HostReservingFGD (alias "best") and StrandAwareFGD: registry entries, the online target never
// looks at pods that have not arrived yet, their pieces against hand-computed values and
// brute-force oracles, and the full protocol (seeds 42..51, median) against FGD on the default
// and multigpu50 traces.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/replay.hpp"

using namespace gpushare::sim;

namespace {
const std::string kDir = std::string(GPUSHARE_DATA_DIR) + "/openb";
}  // namespace

TEST_CASE("best policy: registered under its name and the alias, learning its target online") {
  const SimPolicy& a = sim_policy("StrandAwareFGD");
  const SimPolicy& h = sim_policy("HostReservingFGD");
  const SimPolicy& b = sim_policy("best");
  REQUIRE(a.learns_target);
  REQUIRE_FALSE(a.adapt);
  REQUIRE(h.learns_target);
  REQUIRE(h.adapt);
  REQUIRE(b.learns_target);
  REQUIRE(b.adapt);
  REQUIRE(b.description == h.description);  // "best" is HostReservingFGD
  REQUIRE(b.gpu_select == GpuSelect::from_score);
  REQUIRE_FALSE(sim_policy("FGD").learns_target);
  const auto names = sim_policy_names();
  REQUIRE(std::find(names.begin(), names.end(), "HostReservingFGD") != names.end());
  // "best" is the catalogue's name of HostReservingFGD (the old label stays an alias)
  REQUIRE(&sim_policy("best") == &sim_policy("HostReservingFGD"));
  REQUIRE(&sim_policy("host-reserving-fgd") == &sim_policy("best"));
}

TEST_CASE("host reservation: copies that fit, Poisson tail, class-wise fragmentation") {
  PodShape half; half.cpu = 4000; half.milli = 500; half.num = 1;
  PodShape two; two.cpu = 20000; two.milli = 1000; two.num = 2;
  const int16_t left[4] = {1000, 500, 1000, 300};
  REQUIRE(copies_that_fit(16000, left, 4, 0, half) == 4);   // GPUs: 2 + 1 + 2 + 0 = 5, CPU: 4
  REQUIRE(copies_that_fit(100000, left, 4, 0, half) == 5);
  REQUIRE(copies_that_fit(100000, left, 4, 0, two) == 1);   // two whole GPUs free
  REQUIRE(copies_that_fit(19000, left, 4, 0, two) == 0);    // not enough CPU
  PodShape cpu_only; cpu_only.cpu = 1000;
  REQUIRE(copies_that_fit(100000, left, 4, 0, cpu_only) == 0);
  PodShape only_model1 = half; only_model1.spec_mask = 1u << 1;
  REQUIRE(copies_that_fit(100000, left, 4, 0, only_model1) == 0);

  // Against placing copies one by one until the next does not fit (random nodes and shapes).
  std::mt19937 gen(11);
  const int sizes[] = {110, 230, 470, 500, 810, 1000};
  for (int trial = 0; trial < 2000; ++trial) {
    PodShape t;
    t.cpu = int64_t(gen() % 30) * 1000;
    t.num = 1 + int(gen() % 8);
    t.milli = t.num > 1 ? 1000 : sizes[gen() % 6];
    int16_t l[8];
    const int gpus = 1 + int(gen() % 8);
    for (int g = 0; g < gpus; ++g) l[g] = int16_t((gen() % 101) * 10);
    const int64_t cpu = int64_t(gen() % 130) * 1000;
    NodeState n;
    n.cpu_left = cpu;
    n.mem_left = 1;
    n.gpus = gpus;
    n.model = 0;
    for (int g = 0; g < gpus; ++g) n.left[size_t(g)] = l[g];
    int64_t placed = 0;
    while (fits(n, t, 0)) {
      n.cpu_left -= t.cpu;
      for (int k = 0, g = 0; g < gpus && k < t.num; ++g)
        if (n.left[size_t(g)] >= t.milli) n.left[size_t(g)] = int16_t(n.left[size_t(g)] - t.milli), ++k;
      ++placed;
    }
    REQUIRE(copies_that_fit(cpu, l, gpus, 0, t) == placed);
  }

  // Poisson tail against the direct sum.
  for (double mean : {0.5, 3.0, 12.0}) {
    double below = 0, term = std::exp(-mean);
    for (int k = 0; k < 40; ++k) {
      REQUIRE(poisson_at_least(mean, k) == Approx(1.0 - below).margin(1e-9));
      below += term;
      term *= mean / double(k + 1);
    }
  }
  REQUIRE(poisson_at_least(400.0, 400) == Approx(0.5).margin(0.03));  // normal branch
  REQUIRE(poisson_at_least(400.0, 520) < 1e-6);
  REQUIRE(poisson_at_least(0.0, 1) == 0.0);

  // class_frag is node_frag, whatever the node and target (random oracle check).
  std::mt19937 rng(7);
  const int millis[] = {50, 230, 320, 470, 500, 810, 1000};
  for (int trial = 0; trial < 300; ++trial) {
    TargetWorkload tw;
    const int k = 1 + int(rng() % 12);
    double sum = 0;
    for (int i = 0; i < k; ++i) {
      PodShape t;
      t.cpu = int64_t(rng() % 40) * 1000;
      t.num = int(rng() % 5);
      t.milli = t.num == 0 ? 0 : t.num > 1 ? 1000 : millis[rng() % 7];
      t.spec_mask = rng() % 4 == 0 ? (1u << (rng() % 3)) : 0u;
      const double w = 1.0 + double(rng() % 10);
      tw.shapes.push_back({t, w});
      sum += w;
    }
    for (auto& ts : tw.shapes) {
      ts.weight /= sum;
      if (ts.shape.num == 0) tw.cpu_only_weight += ts.weight;
    }
    int16_t l[8];
    const int gpus = 1 + int(rng() % 8);
    for (int g = 0; g < gpus; ++g) l[g] = int16_t((rng() % 101) * 10);
    const int64_t cpu = int64_t(rng() % 100) * 1000;
    const int model = int(rng() % 3);
    REQUIRE(detail::class_frag(cpu, l, gpus, model, tw.cpu_only_weight, shape_classes(tw)) ==
            Approx(node_frag(cpu, l, gpus, model, tw)));
  }
}

TEST_CASE("host reservation: the last hosts of an arriving shape are kept for it") {
  // Two 128-core nodes are the only hosts of the 8-GPU task that asks for 120 cores; ten
  // 96-core nodes take everything else. Half of the arrived pods were such 8-GPU tasks.
  std::vector<SimNode> nodes;
  for (int i = 0; i < 12; ++i) {
    SimNode n;
    n.name = "n" + std::to_string(i);
    n.cpu_milli = i < 2 ? 128000 : 96000;
    n.memory_mib = 1 << 20;
    n.gpus = 8;
    n.model = "G2";
    nodes.push_back(n);
  }
  SimState st(nodes);
  PodShape big; big.cpu = 120000; big.milli = 1000; big.num = 8;
  PodShape one; one.cpu = 8000; one.milli = 1000; one.num = 1;
  const std::vector<PodShape> shapes{big, one};
  const std::vector<int64_t> arrived{10, 10};
  TargetWorkload tw = TargetWorkload::from_counts(shapes, arrived);
  std::vector<uint32_t> stale;
  adapt_host_reservation(st, shapes, arrived, tw, stale);
  // Pods to come: min(96 idle GPUs / 4.5 per pod, 1216 idle cores / 64 per pod) = 19, of them
  // 9.5 big for 2 hosts: P(Poisson(9.5) >= 2) rounds to 1, so each host is worth 8000 milli.
  REQUIRE(tw.scarce.size() == 1);
  REQUIRE(tw.scarce[0].shape == big);
  REQUIRE(tw.scarce[0].milli_per_host == Approx(8000.0));
  REQUIRE(stale == std::vector<uint32_t>{0, 1});  // the nodes whose scores changed
  const int64_t on_big_host = score_host_reserving_fgd(st.node(0), one, tw, nullptr);
  const int64_t elsewhere = score_host_reserving_fgd(st.node(5), one, tw, nullptr);
  REQUIRE(elsewhere > on_big_host);
  // Nothing changed: the same call names no node.
  stale.clear();
  adapt_host_reservation(st, shapes, arrived, tw, stale);
  REQUIRE(stale.empty());
  // With the big task rare, its two hosts are not at risk and are not reserved (one-GPU tasks
  // never are).
  const std::vector<int64_t> few_big{1, 2000};
  TargetWorkload tw2 = TargetWorkload::from_counts(shapes, few_big);
  adapt_host_reservation(st, shapes, few_big, tw2, stale);
  REQUIRE(tw2.scarce.empty());
  REQUIRE(score_host_reserving_fgd(st.node(0), one, tw2, nullptr) == score_host_reserving_fgd(st.node(5), one, tw2, nullptr));
}

TEST_CASE("host reservation: one-GPU tasks pinned to a scarce model keep its nodes") {
  // Two T4 nodes (2 GPUs each) and ten G2 nodes (8 GPUs each). Half of the arrived pods are
  // one-GPU tasks pinned to T4, the other half may go anywhere: the T4 GPUs are the pinned
  // tasks' only hosts and more of them are coming than the T4 nodes can take, so a flexible
  // task scores higher on a G2 node. (Found with the variant grid: pinned=0.3, pin_models=0 on
  // default was 2.5 points behind FGD before pinned shapes were reserved, docs/BEST_POLICY.md.)
  std::vector<SimNode> nodes;
  for (int i = 0; i < 12; ++i) {
    SimNode n;
    n.name = "n" + std::to_string(i);
    n.cpu_milli = 96000;
    n.memory_mib = 1 << 20;
    n.gpus = i < 2 ? 2 : 8;
    n.model = i < 2 ? "T4" : "G2";
    nodes.push_back(n);
  }
  SimState st(nodes);
  PodShape pinned; pinned.cpu = 4000; pinned.milli = 1000; pinned.num = 1;
  pinned.spec_mask = 1u << gpu_model_id("T4");
  PodShape free_one = pinned;
  free_one.spec_mask = 0;
  const std::vector<PodShape> shapes{pinned, free_one};
  const std::vector<int64_t> arrived{20, 20};
  TargetWorkload tw = TargetWorkload::from_counts(shapes, arrived);
  std::vector<uint32_t> stale;
  adapt_host_reservation(st, shapes, arrived, tw, stale);
  REQUIRE(tw.scarce.size() == 1);
  REQUIRE(tw.scarce[0].shape == pinned);
  REQUIRE(tw.scarce[0].milli_per_host > 0);
  REQUIRE(stale == std::vector<uint32_t>{0, 1});  // the T4 nodes
  // Taking a T4 GPU now costs a flexible task: its score there drops, on G2 it does not move.
  TargetWorkload unreserved = tw;
  unreserved.scarce.clear();
  REQUIRE(score_host_reserving_fgd(st.node(0), free_one, tw, nullptr) <
          score_host_reserving_fgd(st.node(0), free_one, unreserved, nullptr));
  REQUIRE(score_host_reserving_fgd(st.node(5), free_one, tw, nullptr) ==
          score_host_reserving_fgd(st.node(5), free_one, unreserved, nullptr));
  REQUIRE(score_host_reserving_fgd(st.node(5), free_one, tw, nullptr) >
          score_host_reserving_fgd(st.node(0), free_one, tw, nullptr));
  // Unpinned one-GPU tasks are still never reserved.
  const std::vector<int64_t> only_free{0, 40};
  TargetWorkload tw2 = TargetWorkload::from_counts(shapes, only_free);
  stale.clear();
  adapt_host_reservation(st, shapes, only_free, tw2, stale);
  REQUIRE(tw2.scarce.empty());
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
  REQUIRE(same_alloc("HostReservingFGD"));
  REQUIRE(same_alloc("StrandAwareFGD"));
  REQUIRE_FALSE(same_alloc("FGD"));
}

namespace {
/// Medians over seeds 42..51 of the unallocated GPU % at arrived demand 80..100%, best and FGD.
struct Curves { std::vector<double> best, fgd; };
Curves protocol_medians(const std::string& trace) {
  Replayer r(load_openb_nodes(kDir + "/openb_node_list_gpu_node.csv"),
             load_openb_pods(kDir + "/openb_pod_list_" + trace + ".csv"));
  std::vector<std::vector<double>> best(21), fgd(21);
  for (uint64_t seed = 42; seed <= 51; ++seed) {
    auto b = r.run(sim_policy("best"), seed), f = r.run(sim_policy("FGD"), seed);
    for (int k = 80; k <= 100; ++k) {
      best[size_t(k - 80)].push_back(b.steps[size_t(k)].unallocated_pct);
      fgd[size_t(k - 80)].push_back(f.steps[size_t(k)].unallocated_pct);
    }
  }
  Curves c;
  for (size_t i = 0; i < 21; ++i) c.best.push_back(median(best[i])), c.fgd.push_back(median(fgd[i]));
  return c;
}
}  // namespace

TEST_CASE("best policy: default trace, full protocol, median over seeds 42..51 beats FGD") {
  const Curves c = protocol_medians("default");
  INFO("best " << c.best[20] << "% unallocated at 100% arrived, FGD " << c.fgd[20] << "%");
  // Measured: 4.21 vs 4.77. The target of 3.8 is not reached: an offline packing of the
  // trace's GPU-sharing tasks alone already leaves about 3.8% (docs/BEST_POLICY.md).
  REQUIRE(c.best[20] <= 4.25);
  REQUIRE(c.best[20] <= 0.9 * c.fgd[20]);
  for (int k = 80; k <= 100; ++k) {
    INFO("arrived " << k << "%: best " << c.best[size_t(k - 80)] << ", FGD " << c.fgd[size_t(k - 80)]);
    REQUIRE(c.best[size_t(k - 80)] <= c.fgd[size_t(k - 80)] + 0.02);
  }
}

TEST_CASE("best policy: multigpu50, the 8-GPU tasks' last hosts are kept: never clearly worse than FGD") {
  // StrandAwareFGD was up to 1.6 points worse than FGD here between 88% and 99% arrived.
  const Curves c = protocol_medians("multigpu50");
  INFO("best " << c.best[20] << "% unallocated at 100% arrived, FGD " << c.fgd[20] << "%");
  REQUIRE(c.best[20] <= c.fgd[20] - 0.3);  // measured 2.54 vs 2.91
  for (int k = 80; k <= 100; ++k) {
    INFO("arrived " << k << "%: best " << c.best[size_t(k - 80)] << ", FGD " << c.fgd[size_t(k - 80)]);
    REQUIRE(c.best[size_t(k - 80)] <= c.fgd[size_t(k - 80)] + 0.1);  // measured worst +0.00
  }
}
