// One live decision with the catalogue's learning policies (fgd, best): observe() + schedule()
// on clusters of 1,000 and 10,000 nodes with 8 GPUs each, kept about 60% full.  Each decision
// allocates its placement and releases the oldest allocation, so two nodes change per decision
// as in a running service (the per-(node, shape) score cache sees realistic churn).  Reports the
// median and the 99th percentile of the time per decision, as wall time (manual timing around
// observe + schedule only) and as the thread's CPU time (what a loaded machine does not inflate).
//
//   build/bench/bench_live_policy --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <gpushare/catalogue.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <deque>
#include <random>
#include <string>
#include <vector>

namespace {

// A request of the mix: shares of one GPU (most), and 1, 2, 4 or 8 whole GPUs.
gpushare::Request make_request(std::mt19937_64& rng, int k) {
  gpushare::Request r;
  r.name = "pod-" + std::to_string(k);
  const int kind = static_cast<int>(rng() % 10);
  if (kind < 6) {
    r.gpu = {1, static_cast<std::int64_t>(1 + rng() % 9) * 100, 0};
    r.cpu_milli = 4000;
  } else {
    const int n = kind == 6 ? 1 : kind == 7 ? 2 : kind == 8 ? 4 : 8;
    r.gpu = {n, 1000, 0};
    r.cpu_milli = 8000 * n;
  }
  r.host_mib = 8192;
  return r;
}

void run(benchmark::State& state, const char* policy) {
  const int nodes = static_cast<int>(state.range(0));
  std::mt19937_64 rng(42);
  gpushare::Cluster c;
  for (int i = 0; i < nodes; ++i) {
    gpushare::Node n{"node-" + std::to_string(i), 128000, 1048576, {}, {}};
    for (int g = 0; g < 8; ++g) n.gpus.push_back({g, "A100", 1000, 81920});
    c.add_node(std::move(n));
  }
  gpushare::AnyPolicy p = gpushare::make_policy(policy);
  gpushare::ScheduleOptions opt;
  opt.explain = false;
  std::deque<std::string> live;
  int k = 0;
  // Fill to 60% with the policy itself (it learns the mix on the way).
  while (c.free_gpu_milli() > c.total_gpu_milli() * 4 / 10) {
    gpushare::Request r = make_request(rng, k++);
    gpushare::observe(p, c, r);
    auto res = gpushare::schedule(c, r, p, opt);
    if (!res) continue;
    c.allocate(*res.placement);
    live.push_back(r.name);
  }
  std::vector<double> us, cpu_us;
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  };
  for (auto _ : state) {
    gpushare::Request r = make_request(rng, k++);
    const double c0 = cpu_now();
    const auto t0 = std::chrono::steady_clock::now();
    gpushare::observe(p, c, r);
    auto res = gpushare::schedule(c, r, p, opt);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu_us.push_back(cpu_now() - c0);
    state.SetIterationTime(s);
    us.push_back(s * 1e6);
    if (res) {
      c.allocate(*res.placement);
      live.push_back(r.name);
    }
    while (c.free_gpu_milli() < c.total_gpu_milli() * 4 / 10 && !live.empty()) {
      c.release(live.front());
      live.pop_front();
    }
  }
  std::sort(us.begin(), us.end());
  std::sort(cpu_us.begin(), cpu_us.end());
  if (!us.empty()) {
    state.counters["median_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
    state.counters["cpu_median_us"] = cpu_us[cpu_us.size() / 2];
    state.counters["cpu_p99_us"] = cpu_us[std::min(cpu_us.size() - 1, cpu_us.size() * 99 / 100)];
  }
  state.counters["nodes"] = nodes;
}

void BM_LiveFgd(benchmark::State& s) { run(s, "fgd"); }
void BM_LiveBest(benchmark::State& s) { run(s, "best"); }

}  // namespace

BENCHMARK(BM_LiveFgd)->Arg(1000)->Arg(10000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LiveBest)->Arg(1000)->Arg(10000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
