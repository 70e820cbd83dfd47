// gpushare/k8s/cluster_sync.hpp — keeps an ExtenderService in step with the API server: two
// informers (nodes, pods) and a thread that, after any change, rebuilds the service's cluster
// from the stored objects (ExtenderService::sync_from_api).  Changes arriving close together
// are folded into one rebuild (`settle`).  Link gpushare::kube.
//
// @code
//   gpushare::k8s::ClusterSync sync(api, service);
//   sync.start();
//   sync.wait_synced(std::chrono::seconds(30));   // nodes and pods listed, state rebuilt
// @endcode
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "gpushare/k8s/extender_service.hpp"
#include "gpushare/k8s/informer.hpp"

namespace gpushare {
namespace k8s {

/// @brief Nodes and pods informers feeding an ExtenderService.
class ClusterSync {
 public:
  /// @param log receives one line per rebuild (counts, problems) and per watch problem.
  ClusterSync(ApiClient& api, ExtenderService& svc, std::function<void(const std::string&)> log = {},
              std::chrono::milliseconds settle = std::chrono::milliseconds(10))
      : svc_(svc), log_(std::move(log)), settle_(settle), nodes_(api, "/api/v1/nodes", {}), pods_(api, "/api/v1/pods", {}) {
    for (Informer* inf : {&nodes_, &pods_}) {
      inf->handlers.on_change = [this] { mark_dirty(); };
      inf->handlers.on_problem = [this](const std::string& s) { say(s); };
    }
  }
  ClusterSync(const ClusterSync&) = delete;
  ClusterSync& operator=(const ClusterSync&) = delete;
  ~ClusterSync() { stop(); }

  void start() {
    running_ = true;
    worker_ = std::thread([this] { loop(); });
    nodes_.start();
    pods_.start();
  }

  void stop() {
    if (!worker_.joinable()) return;
    nodes_.stop();
    pods_.stop();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = false;
    }
    cv_.notify_all();
    worker_.join();
  }

  /// @brief True once both lists are in and the state was rebuilt from them.
  bool synced() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return rebuilt_after_sync_;
  }
  bool wait_synced(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return rebuilt_after_sync_; });
  }
  /// @brief Rebuilds done so far.
  std::uint64_t rebuilds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return rebuilds_;
  }
  /// @brief The last rebuild's report.
  ExtenderService::SyncReport last_report() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_;
  }

 private:
  void say(const std::string& s) {
    if (log_) log_(s);
  }
  void mark_dirty() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      dirty_ = true;
    }
    cv_.notify_all();
  }

  void loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (running_) {
      cv_.wait(lock, [&] { return !running_ || dirty_; });
      if (!running_) return;
      lock.unlock();
      std::this_thread::sleep_for(settle_);  // fold a burst of events into one rebuild
      lock.lock();
      dirty_ = false;
      if (!nodes_.synced() || !pods_.synced()) continue;  // never rebuild from half the truth
      lock.unlock();
      ExtenderService::SyncReport rep;
      try {
        rep = svc_.sync_from_api(nodes_.items(), pods_.items());
      } catch (const std::exception& e) {
        say(std::string("rebuild from the API server failed: ") + e.what());
        lock.lock();
        continue;
      }
      lock.lock();
      const bool first = !rebuilt_after_sync_;
      rebuilt_after_sync_ = true;
      ++rebuilds_;
      if (first || rep.problems != last_.problems || rep.nodes != last_.nodes) {
        lock.unlock();
        say("state from the API server: " + std::to_string(rep.nodes) + " nodes, " + std::to_string(rep.placements) +
            " allocations from pod annotations, " + std::to_string(rep.in_flight) + " binds in flight");
        for (const auto& p : rep.problems) say("  " + p);
        lock.lock();
      }
      last_ = std::move(rep);
      cv_.notify_all();
    }
  }

  ExtenderService& svc_;
  std::function<void(const std::string&)> log_;
  std::chrono::milliseconds settle_;
  Informer nodes_, pods_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool running_ = false, dirty_ = false, rebuilt_after_sync_ = false;
  std::uint64_t rebuilds_ = 0;
  ExtenderService::SyncReport last_;
  std::thread worker_;
};

}  // namespace k8s
}  // namespace gpushare
