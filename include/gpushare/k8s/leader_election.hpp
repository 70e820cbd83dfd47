// gpushare/k8s/leader_election.hpp — leader election on a coordination.k8s.io/v1 Lease, the way
// kube-scheduler and client-go do it: try to acquire every retry period; the lease is free
// when it has no holder or its record has not changed for leaseDurationSeconds as observed
// locally (so clocks need not agree); the leader renews every retry period and gives up when
// it could not renew within the renew deadline.  Writes are conditional on the resourceVersion
// read, so two candidates cannot both win.  Link gpushare::kube.
//
// @code
//   gpushare::k8s::LeaderElector le(api, {"kube-system", "gpushare-extender", hostname});
//   le.run([] { start_serving(); }, [] { std::exit(1); });   // blocks; callbacks on transitions
// @endcode
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <mutex>
#include <string>

#include "gpushare/k8s/api_client.hpp"

namespace gpushare {
namespace k8s {

/// @brief Where the lease is and the timing (kube defaults 15 s / 10 s / 2 s).
struct LeaseConfig {
  std::string namespace_name = "kube-system";
  std::string name = "gpushare-extender";
  std::string identity;  ///< this candidate (e.g. hostname + pid)
  std::chrono::milliseconds lease_duration = std::chrono::seconds(15);
  std::chrono::milliseconds renew_deadline = std::chrono::seconds(10);
  std::chrono::milliseconds retry_period = std::chrono::seconds(2);
};

/// @brief RFC 3339 time with microseconds in UTC, as Lease's MicroTime fields want it.
inline std::string micro_time_now() {
  const auto now = std::chrono::system_clock::now();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  return buf;
}

/// @brief One candidate in a Lease election.
class LeaderElector {
 public:
  LeaderElector(ApiClient& api, LeaseConfig c) : api_(api), c_(std::move(c)) {
    if (c_.identity.empty()) throw InvalidArgument("leader election: empty identity");
    if (!(c_.lease_duration > c_.renew_deadline && c_.renew_deadline > c_.retry_period && c_.retry_period.count() > 0))
      throw InvalidArgument("leader election: need lease duration > renew deadline > retry period > 0");
  }

  bool is_leader() const { return leader_; }

  /// @brief Campaigns until stop(); calls `started` on becoming leader and `lost` when the
  /// lease could not be renewed in time (then returns).  `log` gets transitions and errors.
  void run(const std::function<void()>& started, const std::function<void()>& lost,
           const std::function<void(const std::string&)>& log = {}) {
    auto say = [&](const std::string& s) {
      if (log) log(s);
    };
    const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + c_.namespace_name + "/leases";
    auto last_renew = std::chrono::steady_clock::now();
    while (!stopped()) {
      bool ok = false;
      try {
        ok = try_acquire_or_renew(path);
      } catch (const std::exception& e) {
        say(std::string("lease ") + c_.namespace_name + "/" + c_.name + ": " + e.what());
      }
      const auto now = std::chrono::steady_clock::now();
      if (ok) {
        last_renew = now;
        if (!leader_) {
          leader_ = true;
          say("became the leader (lease " + c_.namespace_name + "/" + c_.name + ", identity " + c_.identity + ")");
          started();
        }
      } else if (leader_ && now - last_renew > c_.renew_deadline) {
        leader_ = false;
        say("lost the lease " + c_.namespace_name + "/" + c_.name + " (not renewed within the renew deadline)");
        lost();
        return;
      }
      wait(c_.retry_period);
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
  }

 private:
  bool stopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stop_;
  }
  void wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, d, [&] { return stop_; });
  }

  nlohmann::json spec(int transitions, const std::string& acquire) const {
    return {{"holderIdentity", c_.identity},
            {"leaseDurationSeconds", std::chrono::duration_cast<std::chrono::seconds>(c_.lease_duration).count()},
            {"acquireTime", acquire},
            {"renewTime", micro_time_now()},
            {"leaseTransitions", transitions}};
  }

  bool try_acquire_or_renew(const std::string& path) {
    nlohmann::json lease;
    try {
      lease = api_.get(path + "/" + c_.name);
    } catch (const ApiError& e) {
      if (e.status() != 404) throw;
      api_.create(path, {{"apiVersion", "coordination.k8s.io/v1"},
                         {"kind", "Lease"},
                         {"metadata", {{"name", c_.name}, {"namespace", c_.namespace_name}}},
                         {"spec", spec(0, micro_time_now())}});
      return true;
    }
    const nlohmann::json s = lease.value("spec", nlohmann::json::object());
    const std::string holder = s.value("holderIdentity", "");
    const auto now = std::chrono::steady_clock::now();
    const std::string record = holder + "|" + s.value("renewTime", "");
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    const auto duration = std::chrono::seconds(s.value("leaseDurationSeconds", 15));
    const bool mine = holder == c_.identity;
    if (!mine && !holder.empty() && now - observed_at_ < duration) return false;  // held by a live leader
    const int transitions = s.value("leaseTransitions", 0) + (mine ? 0 : 1);
    lease["spec"] = spec(transitions, mine ? s.value("acquireTime", micro_time_now()) : micro_time_now());
    api_.replace(path + "/" + c_.name, lease);  // conditional on metadata.resourceVersion
    return true;
  }

  ApiClient& api_;
  LeaseConfig c_;
  std::atomic<bool> leader_{false};
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace k8s
}  // namespace gpushare
