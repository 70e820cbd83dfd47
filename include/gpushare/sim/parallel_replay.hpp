// gpushare/sim/parallel_replay.hpp — one replay per seed on several threads, with results that
// are identical, bit for bit, to running the seeds one after another.
//
// Each replay owns its state (Replayer::run keeps everything it mutates locally and the
// registered policies are stateless), so seeds can run concurrently on one shared Replayer.
// Results come back in the order of `seeds`, whatever the thread count or the order in which
// workers finish. tests/cpp/test_sim_parallel.cpp checks the promise for every policy.
//
// @code
//   gpushare::sim::Replayer r(nodes, pods);
//   auto results = gpushare::sim::run_seeds(r, gpushare::sim::sim_policy("FGD"),
//                                           {42, 43, 44, 45}, /*threads=*/2);
//   // results[k] == r.run(policy, seeds[k]) for every k
// @endcode
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/sim/replay.hpp"

namespace gpushare {
namespace sim {

/// @brief Runs `replayer.run(policy, seed, engine)` for every seed on up to `threads` threads.
/// @param replayer the trace and cluster; shared read-only by the workers
/// @param policy   a registered policy (sim_policy(name))
/// @param seeds    one replay per entry, duplicates allowed
/// @param threads  worker threads; 0 = std::thread::hardware_concurrency(); never more than
///                 seeds.size(); 1 runs on the calling thread
/// @param engine   Engine::fast (default) or Engine::reference
/// @return one result per seed, in the order of `seeds`
/// @throws InvalidArgument if `threads` exceeds 1024; rethrows the first exception a replay threw
///         (after every worker has stopped)
inline std::vector<ReplayResult> run_seeds(const Replayer& replayer, const SimPolicy& policy,
                                           const std::vector<std::uint64_t>& seeds, unsigned threads = 1,
                                           Engine engine = Engine::fast) {
  if (threads > 1024) throw InvalidArgument("run_seeds: threads must be at most 1024");
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = unsigned(std::min<size_t>(threads, std::max<size_t>(seeds.size(), 1)));
  std::vector<ReplayResult> out(seeds.size());
  if (threads <= 1) {
    for (size_t k = 0; k < seeds.size(); ++k) out[k] = replayer.run(policy, seeds[k], engine);
    return out;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= seeds.size() || failed.load()) return;
      try {
        out[k] = replayer.run(policy, seeds[k], engine);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads);
  try {
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  } catch (...) {  // could not start a thread: stop the ones running, then report
    failed.store(true);
    for (auto& th : pool) th.join();
    throw;
  }
  for (auto& th : pool) th.join();
  if (first_error) std::rethrow_exception(first_error);
  return out;
}

}  // namespace sim
}  // namespace gpushare
