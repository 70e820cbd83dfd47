// Benchmarks of the topology layer: exact best GPU set on a DGX-2 style 16-GPU node, and
// go-gpuallocator BestEffort (branch and bound) against the plain partition enumeration.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/io/topology_json.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"
#include "gpushare/solve/topology_set.hpp"

using namespace gpushare;

namespace {
Topology load(const std::string& name) {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/topology/" + name + ".json");
  if (!f) throw NotFound("fixture " + name);
  return topology_from_json(nlohmann::json::parse(f));
}
// A 16-GPU node with a non-uniform NVLink pattern: two DGX-1V cube meshes joined by SYS.
Topology two_cubes() {
  Topology v = load("dgx1-volta");
  Topology t(16);
  for (int i = 0; i < 16; ++i)
    for (int j = i + 1; j < 16; ++j) {
      if (i / 8 == j / 8) t.set_link(i, j, v.pcie_level(i % 8, j % 8), v.nvlink()(i % 8, j % 8));
      else t.set_link(i, j, PcieLevel::sys, 0);
    }
  return t;
}
std::vector<int> all(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i) v.push_back(i);
  return v;
}
}  // namespace

static void BM_BestSet_DGX2(benchmark::State& st) {
  static Topology t = load("dgx2");
  const int k = static_cast<int>(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(best_gpu_set(t, all(16), k));
}
BENCHMARK(BM_BestSet_DGX2)->DenseRange(1, 16, 1)->Unit(benchmark::kMicrosecond);

static void BM_BestSet_DGX2_LeaveBest(benchmark::State& st) {
  static Topology t = load("dgx2");
  const int k = static_cast<int>(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(best_gpu_set(t, all(16), k, {}, TopologySetOptions{true}));
}
BENCHMARK(BM_BestSet_DGX2_LeaveBest)->DenseRange(1, 16, 1)->Unit(benchmark::kMicrosecond);

static void BM_BestSet_TwoCubes(benchmark::State& st) {
  static Topology t = two_cubes();
  const int k = static_cast<int>(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(best_gpu_set(t, all(16), k));
}
BENCHMARK(BM_BestSet_TwoCubes)->DenseRange(1, 16, 1)->Unit(benchmark::kMicrosecond);

static void BM_BestEffort_BnB_TwoCubes(benchmark::State& st) {
  static Topology t = two_cubes();
  const int k = static_cast<int>(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(nvidia_besteffort(t, all(12), {}, k));
}
BENCHMARK(BM_BestEffort_BnB_TwoCubes)->Arg(2)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond);

static void BM_BestEffort_Enumerate_TwoCubes(benchmark::State& st) {
  static Topology t = two_cubes();
  const int k = static_cast<int>(st.range(0));
  if (nvidia_besteffort_enumerate(t, all(12), {}, k) != nvidia_besteffort(t, all(12), {}, k))
    st.SkipWithError("branch and bound and enumeration disagree");
  for (auto _ : st) benchmark::DoNotOptimize(nvidia_besteffort_enumerate(t, all(12), {}, k));
}
BENCHMARK(BM_BestEffort_Enumerate_TwoCubes)->Arg(2)->Arg(3)->Arg(4)->Unit(benchmark::kMillisecond);

static void BM_BestEffort_BnB_DGX2_16(benchmark::State& st) {
  static Topology t = load("dgx2");
  const int k = static_cast<int>(st.range(0));
  for (auto _ : st) benchmark::DoNotOptimize(nvidia_besteffort(t, all(16), {}, k));
}
BENCHMARK(BM_BestEffort_BnB_DGX2_16)->Arg(2)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond);

static void BM_BestEffort_Enumerate_DGX2_16(benchmark::State& st) {
  static Topology t = load("dgx2");
  const int k = static_cast<int>(st.range(0));
  if (nvidia_besteffort_enumerate(t, all(16), {}, k) != nvidia_besteffort(t, all(16), {}, k))
    st.SkipWithError("branch and bound and enumeration disagree");
  for (auto _ : st) benchmark::DoNotOptimize(nvidia_besteffort_enumerate(t, all(16), {}, k));
}
BENCHMARK(BM_BestEffort_Enumerate_DGX2_16)->Arg(2)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
