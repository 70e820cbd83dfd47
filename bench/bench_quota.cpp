// Quota admission at scale: 1,000 queues x 10 flavors (GPU models) in 10 cohorts of 100 queues,
// with 10,000 admitted workloads (10 per queue).  `BM_QuotaAdmitFit` decides a workload whose
// first flavors are full in its queue, so flavor assignment walks several flavors and admits by
// borrowing or on a later flavor; `BM_QuotaAdmitPreempt` decides a high-priority workload in a
// queue whose every flavor is full, in a cohort with no free quota, so the victim search runs
// (own queue and reclaim from borrowing queues of the cohort).
//
//   build/bench/bench_quota --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <gpushare/solve/quota_admission.hpp>

#include <random>
#include <string>

namespace {

gpushare::QuotaState make_state(bool saturate) {
  using namespace gpushare;
  QuotaTree t;
  for (int c = 0; c < 10; ++c) t.add_cohort("cohort-" + std::to_string(c), "");
  for (int i = 0; i < 1000; ++i) {
    QueueSpec q;
    q.name = "q" + std::to_string(i);
    q.cohort = "cohort-" + std::to_string(i % 10);
    for (int f = 0; f < 10; ++f) q.flavors.push_back({"gpu-model-" + std::to_string(f), {{"gpu", {8, std::int64_t{8}, std::nullopt}}}});
    q.preemption.within_queue = WithinQueuePolicy::lower_priority;
    q.preemption.reclaim_within_cohort = ReclaimPolicy::any;
    t.add_queue(q);
  }
  t.finalize();
  QuotaState st(std::move(t));
  std::mt19937 rng(7);
  int n = 0;
  for (int i = 0; i < 1000; ++i) {
    for (int j = 0; j < 10; ++j) {
      QuotaWorkload w;
      w.name = "w" + std::to_string(n);
      w.queue = "q" + std::to_string(i);
      w.priority = static_cast<int>(rng() % 5);
      // saturate: queue i holds 8 GPUs on each of its first flavors (j), every flavor full.
      w.flavor = "gpu-model-" + std::to_string(j);
      w.requests["gpu"] = saturate ? 8 : (j < 3 ? 8 : 2);
      w.creation = w.admitted_at = n;
      st.admit_existing(w);
      ++n;
    }
  }
  return st;
}

void BM_QuotaAdmitFit(benchmark::State& state) {
  gpushare::QuotaState st = make_state(false);
  gpushare::QuotaWorkload w{"incoming", "q0", 10, "", {{"gpu", 4}}, 100000, 100000};
  int i = 0;
  for (auto _ : state) {
    w.queue = "q" + std::to_string(i++ % 1000);
    gpushare::QuotaDecision d = gpushare::admit(st, w);
    benchmark::DoNotOptimize(d);
    if (!d.admit) state.SkipWithError("expected admission");
  }
}
BENCHMARK(BM_QuotaAdmitFit)->Unit(benchmark::kMicrosecond);

void BM_QuotaAdmitPreempt(benchmark::State& state) {
  gpushare::QuotaState st = make_state(true);
  gpushare::QuotaWorkload w{"incoming", "q0", 10, "", {{"gpu", 8}}, 100000, 100000};
  int i = 0;
  for (auto _ : state) {
    w.queue = "q" + std::to_string(i++ % 1000);
    gpushare::QuotaDecision d = gpushare::admit(st, w);
    benchmark::DoNotOptimize(d);
    if (!d.admit || d.preempted.empty()) state.SkipWithError("expected preemption");
  }
}
BENCHMARK(BM_QuotaAdmitPreempt)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
