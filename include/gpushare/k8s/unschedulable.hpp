// gpushare/k8s/unschedulable.hpp — a bounded log of the pods for which the extender's filter
// found no node, with the reasons, for /inspect and the cluster view.  Not thread-safe: the
// extender service calls it under its own lock.
//
// @code
//   gpushare::k8s::UnschedulableLog log(100);
//   log.record("ns/p", {{"n1", {"gpu_fragmented", "node n1: no single GPU has ..."}}}, 1, now);
//   log.entries();   // most recent first: pod, "no node fits (1 candidate): 1 gpu_fragmented", ...
//   log.forget("ns/p");   // on bind or delete
// @endcode
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gpushare/k8s/inspect.hpp"

namespace gpushare {
namespace k8s {

/// @brief Why one candidate node failed: a short code ("gpu_fragmented", "cpu", "unknown_node",
/// "policy", ...) and the full sentence.
struct NodeFailure {
  std::string code;
  std::string message;
};

/// @brief "3 gpu_fragmented, 1 cpu": the failure codes by count (most first, then by name).
inline std::string count_failures(const std::map<std::string, NodeFailure>& failed) {
  std::map<std::string, std::int64_t> by_code;
  for (const auto& kv : failed) ++by_code[kv.second.code];
  std::vector<std::pair<std::string, std::int64_t>> v(by_code.begin(), by_code.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i].second) + " " + v[i].first;
  return s;
}

/// @brief "no node fits (4 candidates): 3 gpu_fragmented, 1 cpu".
inline std::string summarize_failures(const std::map<std::string, NodeFailure>& failed, std::int64_t candidates) {
  std::string s = "no node fits (" + std::to_string(candidates) + (candidates == 1 ? " candidate)" : " candidates)");
  return failed.empty() ? s : s + ": " + count_failures(failed);
}

/// @brief The most recent unschedulable pods, at most `capacity` of them, each with at most
/// `nodes_per_pod` per-node reasons (the summary counts all of them).
class UnschedulableLog {
 public:
  explicit UnschedulableLog(std::size_t capacity = 100, std::size_t nodes_per_pod = 16)
      : capacity_(capacity), nodes_per_pod_(nodes_per_pod) {}

  /// @brief A filter call found no node for `pod` among `candidates`; `failed` says why per node.
  /// The pod moves to the front; the oldest entry goes when the log is full.
  void record(const std::string& pod, const std::map<std::string, NodeFailure>& failed, std::int64_t candidates,
              std::int64_t now_unix) {
    std::int64_t attempts = 1;
    if (auto it = find(pod); it != entries_.end()) {
      attempts = it->attempts + 1;
      entries_.erase(it);
    }
    UnschedulablePod u;
    u.pod = pod;
    u.reason = summarize_failures(failed, candidates);
    for (const auto& kv : failed) {
      if (u.failed_nodes.size() >= nodes_per_pod_) break;
      u.failed_nodes.emplace(kv.first, kv.second.message);
    }
    u.candidates = candidates;
    u.attempts = attempts;
    u.last_seen_unix = now_unix;
    entries_.push_front(std::move(u));
    while (entries_.size() > capacity_) entries_.pop_back();
  }

  /// @brief The pod was bound or deleted (or a later filter found a node): drop its entry.
  void forget(const std::string& pod) {
    if (auto it = find(pod); it != entries_.end()) entries_.erase(it);
  }

  /// @brief The entry of `pod`, or null.
  const UnschedulablePod* get(const std::string& pod) const {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const UnschedulablePod& u) { return u.pod == pod; });
    return it == entries_.end() ? nullptr : &*it;
  }

  /// @brief Most recent first.
  std::vector<UnschedulablePod> entries() const { return {entries_.begin(), entries_.end()}; }
  std::size_t size() const { return entries_.size(); }

 private:
  std::deque<UnschedulablePod>::iterator find(const std::string& pod) {
    return std::find_if(entries_.begin(), entries_.end(), [&](const UnschedulablePod& u) { return u.pod == pod; });
  }
  std::size_t capacity_, nodes_per_pod_;
  std::deque<UnschedulablePod> entries_;
};

}  // namespace k8s
}  // namespace gpushare
