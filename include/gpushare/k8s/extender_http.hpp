// gpushare/k8s/extender_http.hpp — the extender's HTTP face over cpp-httplib: the verbs
// (POST <prefix>/filter, /prioritize, /bind), GET /inspect, GET /metrics (Prometheus text
// format), GET /healthz (alive) and GET /readyz (200 only while serving); TCP_NODELAY and
// keep-alive on every accepted connection (kube-scheduler keeps its connection alive; without
// TCP_NODELAY each reply waits ~40 ms on a delayed ACK); one log line per request at
// verbosity >= 2; and, with leader election, a follower answers only /healthz (everything else
// 503).  Needs nlohmann_json and cpp-httplib.
//
// @code
//   httplib::Server server;
//   gpushare::k8s::ExtenderMetrics metrics;
//   gpushare::k8s::HttpOptions o;  o.verbosity = 2;
//   gpushare::k8s::install_extender_routes(server, svc, metrics, o);
//   server.listen("127.0.0.1", 39999);
// @endcode
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "gpushare/k8s/cluster_view.hpp"
#include "gpushare/k8s/extender_service.hpp"

namespace gpushare {
namespace k8s {

/// @brief Request counts, latency histograms and bind outcomes, rendered with the cluster's
/// allocation state as Prometheus text.
class ExtenderMetrics {
 public:
  static constexpr std::array<double, 13> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,    0.1,    0.25,  0.5,   1.0};
  /// @brief Records one request of `verb` ("filter", "prioritize", "bind") that took `seconds`.
  void observe(const std::string& verb, double seconds, bool error) {
    std::lock_guard<std::mutex> lock(mutex_);
    Verb& v = verbs_[verb];
    ++v.count;
    v.errors += error;
    v.sum += seconds;
    for (std::size_t b = 0; b < buckets.size(); ++b)
      if (seconds <= buckets[b]) ++v.bucket[b];
  }
  void bind_result(bool ok) { (ok ? binds_ok_ : binds_failed_)++; }

  /// @brief The Prometheus text exposition of the counters and of `c`'s allocation state.
  std::string render(const Cluster& c) const {
    std::ostringstream o;
    o << "# HELP gpushare_extender_requests_total Extender requests by verb and outcome.\n"
         "# TYPE gpushare_extender_requests_total counter\n";
    std::map<std::string, Verb> verbs;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      verbs = verbs_;
    }
    for (const auto& kv : verbs) {
      o << "gpushare_extender_requests_total{verb=\"" << kv.first << "\",outcome=\"ok\"} " << kv.second.count - kv.second.errors << "\n";
      o << "gpushare_extender_requests_total{verb=\"" << kv.first << "\",outcome=\"error\"} " << kv.second.errors << "\n";
    }
    o << "# HELP gpushare_extender_request_duration_seconds Time to answer an extender request.\n"
         "# TYPE gpushare_extender_request_duration_seconds histogram\n";
    for (const auto& kv : verbs) {
      for (std::size_t b = 0; b < buckets.size(); ++b)
        o << "gpushare_extender_request_duration_seconds_bucket{verb=\"" << kv.first << "\",le=\"" << buckets[b] << "\"} "
          << kv.second.bucket[b] << "\n";
      o << "gpushare_extender_request_duration_seconds_bucket{verb=\"" << kv.first << "\",le=\"+Inf\"} " << kv.second.count << "\n";
      o << "gpushare_extender_request_duration_seconds_sum{verb=\"" << kv.first << "\"} " << kv.second.sum << "\n";
      o << "gpushare_extender_request_duration_seconds_count{verb=\"" << kv.first << "\"} " << kv.second.count << "\n";
    }
    o << "# HELP gpushare_extender_binds_total Binds by outcome.\n# TYPE gpushare_extender_binds_total counter\n"
      << "gpushare_extender_binds_total{outcome=\"ok\"} " << binds_ok_.load() << "\n"
      << "gpushare_extender_binds_total{outcome=\"failed\"} " << binds_failed_.load() << "\n";
    std::ostringstream mem_a, mem_t, milli_a, milli_t;
    std::int64_t free_mib = 0, stranded_mib = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
      const NodeView v = c.view(i);
      std::int64_t ma = 0, mt = 0, ca = 0, ct = 0;
      for (int g = 0; g < v.gpu_count(); ++g) {
        const Gpu& gpu = v.gpu(g);
        mt += gpu.mib_total;
        ma += gpu.mib_total - v.free_mib[g];
        ct += gpu.milli_total;
        ca += gpu.milli_total - v.free_milli[g];
        free_mib += v.free_mib[g];
        if (v.free_mib[g] < gpu.mib_total) stranded_mib += v.free_mib[g];
      }
      const std::string l = "{node=\"" + v.name() + "\"} ";
      mem_a << "gpushare_gpu_memory_allocated_mib" << l << ma << "\n";
      mem_t << "gpushare_gpu_memory_total_mib" << l << mt << "\n";
      milli_a << "gpushare_gpu_compute_allocated_milli" << l << ca << "\n";
      milli_t << "gpushare_gpu_compute_total_milli" << l << ct << "\n";
    }
    o << "# HELP gpushare_gpu_memory_allocated_mib GPU memory allocated per node.\n# TYPE gpushare_gpu_memory_allocated_mib gauge\n"
      << mem_a.str() << "# HELP gpushare_gpu_memory_total_mib GPU memory per node.\n# TYPE gpushare_gpu_memory_total_mib gauge\n"
      << mem_t.str()
      << "# HELP gpushare_gpu_compute_allocated_milli GPU compute allocated per node (1000 = one GPU).\n"
         "# TYPE gpushare_gpu_compute_allocated_milli gauge\n"
      << milli_a.str() << "# HELP gpushare_gpu_compute_total_milli GPU compute per node (1000 = one GPU).\n"
      << "# TYPE gpushare_gpu_compute_total_milli gauge\n"
      << milli_t.str()
      << "# HELP gpushare_gpu_memory_fragmentation Share of the free GPU memory that sits on partly used GPUs (0: all free memory is on whole free GPUs).\n"
         "# TYPE gpushare_gpu_memory_fragmentation gauge\n"
      << "gpushare_gpu_memory_fragmentation " << (free_mib ? static_cast<double>(stranded_mib) / static_cast<double>(free_mib) : 0.0)
      << "\n";
    return o.str();
  }

 private:
  struct Verb {
    std::uint64_t count = 0, errors = 0;
    double sum = 0;
    std::array<std::uint64_t, buckets.size()> bucket{};
  };
  mutable std::mutex mutex_;
  std::map<std::string, Verb> verbs_;
  std::atomic<std::uint64_t> binds_ok_{0}, binds_failed_{0};
};

/// @brief How the routes behave.
struct HttpOptions {
  std::string prefix = "/gpushare-scheduler";
  int verbosity = 0;                        ///< >= 2: one log line per request
  std::function<bool()> serving = [] { return true; };  ///< false: a follower, only /healthz answers
  std::ostream* log = &std::cerr;
};

namespace detail {

// "ns/name" of the pod in an ExtenderArgs / ExtenderBindingArgs body, for the log.
inline std::string pod_of(const nlohmann::json& b) {
  if (b.is_object() && b.contains("Pod") && b["Pod"].is_object() && b["Pod"].contains("metadata")) {
    const auto& m = b["Pod"]["metadata"];
    return m.value("namespace", "") + "/" + m.value("name", "");
  }
  if (b.is_object() && b.contains("PodName")) return b.value("PodNamespace", "") + "/" + b.value("PodName", "");
  return "?";
}
inline std::size_t candidates_of(const nlohmann::json& b) {
  if (b.is_object() && b.contains("NodeNames") && b["NodeNames"].is_array()) return b["NodeNames"].size();
  if (b.is_object() && b.contains("Nodes") && b["Nodes"].is_object() && b["Nodes"].contains("items")) return b["Nodes"]["items"].size();
  return b.is_object() && b.contains("Node") ? 1 : 0;
}
inline std::string error_of(const nlohmann::json& r) {
  return r.is_object() && r.contains("Error") && r["Error"].is_string() ? r["Error"].get<std::string>() : "";
}

}  // namespace detail

/// @brief Sets TCP_NODELAY and keep-alive on the server and registers every route.
inline void install_extender_routes(httplib::Server& server, ExtenderService& svc, ExtenderMetrics& metrics, HttpOptions o) {
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000000);
  auto log_mutex = std::make_shared<std::mutex>();
  auto not_serving = [](httplib::Response& res) {
    res.status = 503;
    res.set_content(R"({"Error":"this gpushare-extender is not the leader"})", "application/json");
  };
  auto verb = [&svc, &metrics, o, log_mutex, not_serving](const std::string& name, auto fn) {
    return [&svc, &metrics, o, log_mutex, not_serving, name, fn](const httplib::Request& req, httplib::Response& res) {
      if (!o.serving()) return not_serving(res);
      const auto t0 = std::chrono::steady_clock::now();
      nlohmann::json body, out;
      int status = 200;
      try {
        body = nlohmann::json::parse(req.body);
        out = fn(svc, body);
      } catch (const nlohmann::json::parse_error& e) {
        out = {{"Error", std::string("request body is not JSON: ") + e.what()}};
        status = 400;
      } catch (const std::exception& e) {
        out = {{"Error", e.what()}};
        status = 400;
      }
      res.status = status;
      res.set_content(out.dump(), "application/json");
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::string err = detail::error_of(out);
      metrics.observe(name, secs, status != 200 || !err.empty());
      if (name == "bind") metrics.bind_result(status == 200 && err.empty());
      if (o.verbosity >= 2 && o.log) {
        std::string decision;
        std::size_t passed = 0;
        if (!err.empty()) {
          decision = "error: " + err;
        } else if (name == "filter") {
          passed = out.contains("NodeNames") && out["NodeNames"].is_array() ? out["NodeNames"].size()
                   : out.contains("Nodes") && out["Nodes"].is_object() ? out["Nodes"]["items"].size() : 0;
          decision = std::to_string(out.contains("FailedNodes") ? out["FailedNodes"].size() : 0) + " failed";
        } else if (name == "prioritize") {
          std::string best;
          std::int64_t top = -1;
          for (const auto& h : out)
            if (h.value("Score", std::int64_t{-1}) > top) top = h.value("Score", std::int64_t{-1}), best = h.value("Host", "");
          passed = out.size();
          decision = best.empty() ? "no node" : "best " + best;
        } else {
          passed = 1;
          decision = "bound to " + body.value("Node", "");
        }
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f", secs * 1000);
        std::lock_guard<std::mutex> lock(*log_mutex);
        *o.log << "gpushare-extender: " << name << " pod=" << detail::pod_of(body) << " nodes_in=" << detail::candidates_of(body)
               << " nodes_out=" << passed << " decision=\"" << decision << "\" ms=" << ms << "\n";
      }
    };
  };
  server.Post(o.prefix + "/filter", verb("filter", [](ExtenderService& s, const nlohmann::json& b) { return s.filter(b); }));
  server.Post(o.prefix + "/prioritize", verb("prioritize", [](ExtenderService& s, const nlohmann::json& b) { return s.prioritize(b); }));
  server.Post(o.prefix + "/bind", verb("bind", [](ExtenderService& s, const nlohmann::json& b) { return s.bind(b); }));
  server.Get("/inspect", [&svc, o, not_serving](const httplib::Request&, httplib::Response& res) {
    if (!o.serving()) return not_serving(res);
    res.set_content(svc.inspect().dump(), "application/json");
  });
  server.Get("/metrics", [&svc, &metrics, o, not_serving](const httplib::Request&, httplib::Response& res) {
    if (!o.serving()) return not_serving(res);
    res.set_content(metrics.render(svc.cluster()), "text/plain; version=0.0.4");
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  // The cluster view: one self-contained page (no external assets) that polls /inspect.
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(cluster_view_html(), "text/html; charset=utf-8");
  });
  // Readiness: 200 only while this extender serves (synced with the API server, and the leader),
  // so a Service sends the scheduler's calls to the leader alone.
  server.Get("/readyz", [o](const httplib::Request&, httplib::Response& res) {
    const bool s = o.serving();
    res.status = s ? 200 : 503;
    res.set_content(s ? "ok" : "not serving (not synced or not the leader)", "text/plain");
  });
}

}  // namespace k8s
}  // namespace gpushare
