// The pods the FGD study's protocol submits for one seed, in submission order, with the
// cumulative GPU demand: the input of the offline bounds (bench/lp_bound.py).
//   arrived_pods NODE_CSV POD_CSV SEED [MAX_PCT [POLICY...]] > arrived.csv
//   arrived_pods NODE_CSV POD_CSV --once POLICY...
// Writes `pos,name,cumulative_milli` for every submitted pod while the cumulative GPU demand,
// in % of the cluster's GPU capacity, rounds (as the replay's bins do) to at most MAX_PCT
// (default 100). The order is the replay's (Go math/rand shuffle and resampling, inflation 1.3):
// a check replays FGD with the same seed and requires the same number of submitted pods and
// the same arrived demand at the end.
// With POLICY names: instead, an offline packing of those pods: they are submitted once, largest
// GPU request first (multi-GPU, whole GPUs, sharing pods by size, CPU-only last), to each
// policy in turn, and the line `policy,allocated_milli,capacity_milli` is printed per policy.
// Every placement is the simulator's (CPU, memory, GPUs and model checked).
// With --once: POD_CSV is submitted exactly once, in name order (seed 42 for the node
// priorities), to each policy; prints the same lines (bench/lp_bound.py's offline packing).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/go_rand.hpp"
#include "gpushare/sim/replay.hpp"

int main(int argc, char** argv) {
  using namespace gpushare::sim;
  if (argc < 4) {
    std::fprintf(stderr, "usage: arrived_pods NODE_CSV POD_CSV SEED [MAX_PCT]\n");
    return 2;
  }
  const auto nodes = load_openb_nodes(argv[1]);
  const auto pods = load_openb_pods(argv[2]);
  if (std::string(argv[3]) == "--once") {
    int64_t capacity = 0;
    for (const auto& n : nodes) capacity += int64_t(n.gpus) * 1000;
    ReplayOptions once;
    once.shuffle = false;
    once.resample = false;
    Replayer r(nodes, pods, once);
    std::printf("policy,allocated_milli,capacity_milli\n");
    for (int a = 4; a < argc; ++a)
      std::printf("%s,%lld,%lld\n", argv[a], (long long)r.run(sim_policy(argv[a]), 42).allocated_milli,
                  (long long)capacity);
    return 0;
  }
  const int64_t seed = std::stoll(argv[3]);
  const int max_pct = argc > 4 ? std::stoi(argv[4]) : 100;
  int64_t cap = 0;
  for (const auto& n : nodes) cap += int64_t(n.gpus) * 1000;
  std::vector<size_t> by_name(pods.size());
  std::iota(by_name.begin(), by_name.end(), size_t(0));
  std::stable_sort(by_name.begin(), by_name.end(), [&](size_t a, size_t b) { return pods[a].name < pods[b].name; });
  // Replayer::start_sequence: one logged Int63, rand.Shuffle, then resample (or trim) to 1.3x.
  GoRand rng(seed);
  rng.int63();
  std::vector<size_t> seq(pods.size());
  std::iota(seq.begin(), seq.end(), size_t(0));
  rng.shuffle(seq.size(), [&](size_t i, size_t j) { std::swap(seq[i], seq[j]); });
  int64_t total = 0;
  for (size_t i : seq) total += pods[by_name[i]].total_milli();
  const double target = 1.3 * double(cap);
  if (double(total) < target) {
    for (;;) {
      const size_t idx = size_t(rng.intn(int64_t(pods.size())));
      const SimPod& p = pods[by_name[idx]];
      if (double(total + p.gpu_milli) > target) break;
      total += p.total_milli();
      seq.push_back(idx);
    }
  } else {
    while (double(total) > target && !seq.empty()) {
      const size_t k = size_t(rng.intn(int64_t(seq.size())));
      total -= pods[by_name[seq[k]]].total_milli();
      seq.erase(seq.begin() + std::ptrdiff_t(k));
    }
  }
  Replayer r(nodes, pods);
  const ReplayResult check = r.run(sim_policy("FGD"), uint64_t(seed));
  if (check.pods_submitted != int64_t(seq.size()) || check.arrived_milli != total) {
    std::fprintf(stderr, "arrived_pods: sequence differs from the replay's (%lld pods / %lld milli vs %lld / %lld)\n",
                 (long long)seq.size(), (long long)total, (long long)check.pods_submitted,
                 (long long)check.arrived_milli);
    return 1;
  }
  std::vector<SimPod> prefix;
  int64_t cum = 0;
  const double gpus = double(cap) / 1000.0;
  for (size_t k = 0; k < seq.size(); ++k) {
    cum += pods[by_name[seq[k]]].total_milli();
    if (std::nearbyint(double(cum) / gpus / 10.0) > max_pct) break;
    prefix.push_back(pods[by_name[seq[k]]]);
    prefix.back().name = std::to_string(k) + "," + prefix.back().name + "," + std::to_string(cum);
  }
  if (argc <= 5) {
    std::printf("pos,name,cumulative_milli\n");
    for (const auto& p : prefix) std::printf("%s\n", p.name.c_str());
    return 0;
  }
  std::stable_sort(prefix.begin(), prefix.end(), [](const SimPod& x, const SimPod& y) {
    auto key = [](const SimPod& p) { return std::make_tuple(p.num_gpu > 0, !p.is_share(), p.num_gpu, p.gpu_milli, p.cpu_milli); };
    return key(x) > key(y);
  });
  char buf[32];
  for (size_t k = 0; k < prefix.size(); ++k) {
    std::snprintf(buf, sizeof buf, "p%09zu", k);  // name order = submission order below
    prefix[k].name = buf;
  }
  ReplayOptions once;
  once.shuffle = false;
  once.resample = false;
  Replayer packer(nodes, prefix, once);
  std::printf("policy,allocated_milli,capacity_milli\n");
  for (int a = 5; a < argc; ++a) {
    const ReplayResult res = packer.run(sim_policy(argv[a]), uint64_t(seed));
    std::printf("%s,%lld,%lld\n", argv[a], (long long)res.allocated_milli, (long long)cap);
  }
  return 0;
}
