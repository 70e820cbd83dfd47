// Live decisions at scale: gpushare::schedule() with best-fit on clusters of 10,000 and 100,000
// 8-GPU nodes (80k and 800k GPUs) filled to ~60% of GPU compute with random shares, and the
// median and 99th percentile of one decision (each decision timed on its own).
//
// Requests cycle through a fixed mix: single-GPU shares (100..1000 milli, answered from the
// cluster's FreeGpuIndex), and whole-GPU requests of 2 and 4 GPUs (the full node scan).
//
//   build/bench/bench_live_scale --benchmark_repetitions=3
#include <benchmark/benchmark.h>
#include <gpushare/gpushare.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "shared_cluster.hpp"

namespace {

const gpushare::Cluster& cluster_of(int nodes) { return bench::shared_cluster(nodes); }

/// kind 0: single-GPU shares; kind 1: whole GPUs (2 or 4).
std::vector<gpushare::Request> requests(int kind) {
  std::vector<gpushare::Request> out;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> milli_d(1, 10);
  for (int i = 0; i < 64; ++i) {
    gpushare::Request r;
    r.name = "probe";
    r.cpu_milli = 2000;
    r.host_mib = 8192;
    if (kind == 0) {
      const std::int64_t milli = milli_d(rng) * 100;
      r.gpu = {1, milli, milli * 64};
    } else {
      r.gpu = {i % 2 ? 4 : 2, 1000, 81920};
    }
    out.push_back(r);
  }
  return out;
}

void BM_LiveBestFit(benchmark::State& state) {
  const gpushare::Cluster& c = cluster_of(static_cast<int>(state.range(0)));
  const auto reqs = requests(static_cast<int>(state.range(1)));
  auto policy = gpushare::make_policy("best-fit");
  gpushare::ScheduleOptions opt;
  opt.explain = false;
  std::vector<double> us;
  std::size_t i = 0, placed = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = gpushare::schedule(c, reqs[i++ % reqs.size()], policy, opt);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    placed += r.placement.has_value();
    benchmark::DoNotOptimize(r);
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  state.counters["nodes"] = static_cast<double>(c.nodes().size());
  state.counters["placed_share"] = static_cast<double>(placed) / static_cast<double>(state.iterations());
}

}  // namespace

BENCHMARK(BM_LiveBestFit)
    ->ArgNames({"nodes", "whole"})
    ->Args({10000, 0})
    ->Args({100000, 0})
    ->Args({10000, 1})
    ->Args({100000, 1})
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
