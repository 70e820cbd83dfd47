// Trace-simulator speed: one FGD replay of the openb default trace (seed 42, to 130% arrived
// demand) with the fast engine and with the straightforward reference engine, and the whole
// default row (6 policies x 10 seeds). Run from the repository root (data in ../shared/data).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/replay.hpp"

using namespace gpushare::sim;

namespace {
std::string data_dir() {
  const char* d = std::getenv("GPUSHARE_DATA_DIR");
  return std::string(d ? d : "../shared/data") + "/openb";
}
const Replayer& replayer() {
  static const Replayer r(load_openb_nodes(data_dir() + "/openb_node_list_gpu_node.csv"),
                          load_openb_pods(data_dir() + "/openb_pod_list_default.csv"));
  return r;
}
}  // namespace

static void BM_Replay(benchmark::State& state, std::string policy, Engine engine) {
  const Replayer& r = replayer();
  double unalloc = 0;
  for (auto _ : state) {
    auto res = r.run(sim_policy(policy), 42, engine);
    unalloc = res.steps[100].unallocated_pct;
    benchmark::DoNotOptimize(unalloc);
  }
  if (unalloc < 0) state.SkipWithError("no data at 100%");
}

static void BM_DefaultRow(benchmark::State& state) {
  const Replayer& r = replayer();
  for (auto _ : state)
    for (const char* p : {"Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD"})
      for (uint64_t seed = 42; seed <= 51; ++seed) benchmark::DoNotOptimize(r.run(sim_policy(p), seed).allocated_milli);
}

BENCHMARK_CAPTURE(BM_Replay, FGD_fast, std::string("FGD"), Engine::fast)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, FGD_reference, std::string("FGD"), Engine::reference)
    ->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_Replay, BestFit_fast, std::string("BestFit"), Engine::fast)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Replay, BestFit_reference, std::string("BestFit"), Engine::reference)
    ->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_DefaultRow)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
