// gpushare/k8s/informer.hpp — keeps a local copy of one kind of object (nodes, pods) in step
// with the API server: list, then watch from the list's resourceVersion; bookmarks advance the
// version; a watch the server ends is resumed; a broken connection or error status is retried
// with exponential backoff; 410 Gone (or an ERROR event) starts over with a fresh list.
// Link gpushare::kube.
//
// @code
//   gpushare::k8s::Informer pods(api, "/api/v1/pods", {});
//   pods.handlers.on_delete = [](const nlohmann::json& p) { std::cout << p["metadata"]["name"] << " gone\n"; };
//   pods.start();               // a thread; pods.synced() once the first list is in
//   ...
//   pods.stop();
// @endcode
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gpushare/k8s/api_client.hpp"

namespace gpushare {
namespace k8s {

/// @brief Exponential backoff: initial, doubled per failure up to max; reset after a success.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial = std::chrono::milliseconds(200), std::chrono::milliseconds max = std::chrono::seconds(30))
      : initial_(initial), max_(max), next_(initial) {}
  /// @brief The delay before the next retry (and doubles the one after, up to max).
  std::chrono::milliseconds next() {
    const auto d = next_;
    next_ = std::min(max_, next_ * 2);
    return d;
  }
  void reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_, next_;
};

/// @brief "namespace/name" (or "name" for cluster-scoped objects) of an object.
inline std::string object_key(const nlohmann::json& o) {
  const auto& m = o.at("metadata");
  std::string name = m.value("name", "");
  const std::string ns = m.value("namespace", "");
  return ns.empty() ? name : ns + "/" + name;
}

/// @brief List-then-watch of one collection with a local store; callbacks run on its thread.
class Informer {
 public:
  struct Handlers {
    std::function<void(const nlohmann::json&)> on_add;
    std::function<void(const nlohmann::json& old_obj, const nlohmann::json& new_obj)> on_update;
    std::function<void(const nlohmann::json&)> on_delete;
    /// Called after every change of the store (a whole relist counts as one), after the others.
    std::function<void()> on_change;
    /// Problems (watch broken, relisting), for the log.
    std::function<void(const std::string&)> on_problem;
  };

  Informer(ApiClient& api, std::string path, Handlers h, int watch_timeout_seconds = 300)
      : api_(api), path_(std::move(path)), watch_timeout_(watch_timeout_seconds) { handlers = std::move(h); }
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;
  ~Informer() { stop(); }

  Handlers handlers;

  /// @brief Starts the list/watch thread.
  void start() {
    running_ = true;
    thread_ = std::thread([this] { loop(); });
  }
  /// @brief Ends the thread (closes the watch).  Call ApiClient::stop_watches() first when
  /// several informers share one client and all stop.
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = false;
    }
    cv_.notify_all();
    api_.stop_watches();
    thread_.join();
  }
  /// @brief True once the first list has been stored (and stays true across relists).
  bool synced() const { return synced_; }
  /// @brief Waits up to `timeout` for synced().
  bool wait_synced(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return synced_.load() || !running_; }) && synced_;
  }
  /// @brief A copy of the store's objects.
  std::vector<nlohmann::json> items() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<nlohmann::json> out;
    out.reserve(store_.size());
    for (const auto& kv : store_) out.push_back(kv.second);
    return out;
  }
  /// @brief How many lists were made (1 + relists), for tests and metrics.
  int lists() const { return lists_; }
  const std::string& path() const { return path_; }

 private:
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mutex_);
    return !cv_.wait_for(lock, d, [&] { return !running_; });
  }
  bool running() {
    std::lock_guard<std::mutex> lock(mutex_);
    return running_;
  }

  void relist() {
    nlohmann::json list = api_.list_all(path_);
    std::map<std::string, nlohmann::json> next;
    for (auto& o : list["items"]) {
      const std::string key = object_key(o);  // before the move (the right side of = is evaluated first)
      next[key] = std::move(o);
    }
    std::map<std::string, nlohmann::json> old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      old.swap(store_);
      store_ = next;
      version_ = list["metadata"].value("resourceVersion", "");
      ++lists_;
    }
    for (const auto& kv : next) {
      auto o = old.find(kv.first);
      if (o == old.end()) {
        if (handlers.on_add) handlers.on_add(kv.second);
      } else if (o->second != kv.second) {
        if (handlers.on_update) handlers.on_update(o->second, kv.second);
      }
    }
    for (const auto& kv : old)
      if (!next.count(kv.first) && handlers.on_delete) handlers.on_delete(kv.second);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      synced_ = true;
    }
    cv_.notify_all();
    if (handlers.on_change) handlers.on_change();
  }

  // Applies one event; returns false when a relist is needed.
  bool apply(const WatchEvent& e) {
    if (e.type == "BOOKMARK") {
      std::lock_guard<std::mutex> lock(mutex_);
      version_ = e.object["metadata"].value("resourceVersion", version_);
      return true;
    }
    if (e.type == "ERROR") {
      problem("watch " + path_ + ": ERROR event " + std::to_string(e.object.value("code", 0)) + " " + e.object.value("reason", "") +
              ": " + e.object.value("message", "") + "; listing again");
      return false;
    }
    const std::string key = object_key(e.object);
    std::optional<nlohmann::json> old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      version_ = e.object["metadata"].value("resourceVersion", version_);
      auto it = store_.find(key);
      if (it != store_.end()) old = it->second;
      if (e.type == "DELETED") store_.erase(key);
      else store_[key] = e.object;
    }
    if (e.type == "DELETED") {
      if (handlers.on_delete) handlers.on_delete(e.object);
    } else if (old) {
      if (handlers.on_update) handlers.on_update(*old, e.object);
    } else if (handlers.on_add) {
      handlers.on_add(e.object);
    }
    if (handlers.on_change) handlers.on_change();
    return true;
  }

  void problem(const std::string& s) {
    if (handlers.on_problem) handlers.on_problem(s);
  }

  void loop() {
    Backoff backoff;
    bool need_list = true;
    while (running()) {
      try {
        if (need_list) {
          relist();
          need_list = false;
        }
        std::string from;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          from = version_;
        }
        bool relist_asked = false;
        api_.watch(path_, WatchOptions{from, true, watch_timeout_, "", ""}, [&](const WatchEvent& e) {
          if (!apply(e)) {
            relist_asked = true;
            return false;
          }
          return true;
        });
        backoff.reset();
        if (relist_asked) need_list = true;
        if (api_.watches_stopped()) {  // shutting down: wait for stop()
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] { return !running_; });
          return;
        }
      } catch (const ApiError& e) {
        if (e.status() == 410) {
          need_list = true;
          problem(std::string(e.what()) + "; listing again");
          continue;
        }
        problem(std::string(e.what()) + "; retrying");
        if (!sleep_for(backoff.next())) return;
      } catch (const std::exception& e) {
        // A malformed event or a store problem: start over from a fresh list.
        need_list = true;
        problem("watch " + path_ + ": " + e.what() + "; listing again");
        if (!sleep_for(backoff.next())) return;
      }
    }
  }

  ApiClient& api_;
  std::string path_;
  int watch_timeout_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::map<std::string, nlohmann::json> store_;
  std::string version_;
  std::atomic<bool> synced_{false};
  std::atomic<int> lists_{0};
  bool running_ = false;
  std::thread thread_;
};

}  // namespace k8s
}  // namespace gpushare
