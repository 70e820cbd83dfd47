// Single-GPU best-fit scheduling: the FreeGpuIndex fast path against the plain scan over every
// GPU, on clusters of 8-GPU nodes with 1k to 100k GPUs.  The clusters are filled to about 60%
// with random shares so free capacities are varied, as in a busy shared cluster.
//
//   build/bench/bench_schedule --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <gpushare/gpushare.hpp>

#include <map>
#include <random>
#include <vector>

#include "shared_cluster.hpp"

namespace {

// `gpus` GPUs: gpus / 8 nodes of the shared benchmark cluster (about 60% of compute taken).
const gpushare::Cluster& cluster_of(int gpus) { return bench::shared_cluster(gpus / 8); }

std::vector<gpushare::Request> requests() {
  std::vector<gpushare::Request> out;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> milli_d(1, 10);
  for (int i = 0; i < 64; ++i) {
    gpushare::Request r;
    r.name = "probe";
    r.cpu_milli = 2000;
    r.host_mib = 8192;
    const std::int64_t milli = milli_d(rng) * 100;
    r.gpu = {1, milli, milli * 64};
    out.push_back(r);
  }
  return out;
}

void run(benchmark::State& state, bool use_index) {
  const gpushare::Cluster& c = cluster_of(static_cast<int>(state.range(0)));
  const auto reqs = requests();
  gpushare::ScheduleOptions opt;
  opt.use_index = use_index;
  opt.explain = false;
  std::size_t i = 0, placed = 0;
  for (auto _ : state) {
    auto r = gpushare::schedule(c, reqs[i++ % reqs.size()], gpushare::BestFit{}, opt);
    placed += r.placement.has_value();
    benchmark::DoNotOptimize(r);
  }
  state.counters["gpus"] = static_cast<double>(c.gpu_count());
  state.counters["placed_share"] = static_cast<double>(placed) / static_cast<double>(state.iterations());
}

void BM_BestFitIndexed(benchmark::State& s) { run(s, true); }
void BM_BestFitLinearScan(benchmark::State& s) { run(s, false); }

// Cost of keeping the index in step: one allocate plus its release.
void BM_AllocateRelease(benchmark::State& state) {
  gpushare::Cluster c = cluster_of(static_cast<int>(state.range(0)));  // a copy: this one changes
  const auto reqs = requests();
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = gpushare::schedule(c, reqs[i++ % reqs.size()], gpushare::BestFit{}, {false, true});
    if (r) {
      c.allocate(*r.placement);
      c.release(*r.placement);
    }
  }
}

}  // namespace

BENCHMARK(BM_BestFitIndexed)->Arg(1000)->Arg(10000)->Arg(80000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BestFitLinearScan)->Arg(1000)->Arg(10000)->Arg(80000)->Arg(100000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AllocateRelease)->Arg(80000)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
