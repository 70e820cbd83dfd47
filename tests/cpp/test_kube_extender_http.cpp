// The extender's HTTP face (k8s/extender_http.hpp): kept-alive connections are not slowed by
// delayed ACKs (TCP_NODELAY), /metrics is Prometheus text with the counts and the allocation
// state, a follower answers only /healthz, and the informers' backoff schedule.
#include <gpushare/k8s/extender_dialects.hpp>
#include <gpushare/k8s/extender_http.hpp>
#include <gpushare/k8s/informer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

using namespace gpushare;
using namespace gpushare::k8s;

namespace {

nlohmann::json aliyun_node(const std::string& name, int count, int gib_each) {
  const nlohmann::json res = {{"cpu", "32"}, {"memory", "128Gi"}, {"aliyun.com/gpu-count", std::to_string(count)},
                              {"aliyun.com/gpu-mem", std::to_string(count * gib_each)}};
  return {{"metadata", {{"name", name}}}, {"status", {{"capacity", res}, {"allocatable", res}}}};
}

nlohmann::json aliyun_pod(const std::string& name, int gib) {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}}},
          {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"limits", {{"aliyun.com/gpu-mem", std::to_string(gib)}}}}}}}}}}};
}

struct Running {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  void start() {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Running() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
};

std::shared_ptr<ExtenderService> service(int nodes) {
  auto svc = std::make_shared<ExtenderService>(make_extender_dialect("aliyun"), make_policy("best-fit"),
                                               std::make_shared<JournalBinder>("/dev/null"));
  for (int i = 0; i < nodes; ++i) svc->upsert_node(aliyun_node("n" + std::to_string(i), 2, 16));
  return svc;
}

std::string filter_body(int nodes) {
  nlohmann::json names = nlohmann::json::array();
  for (int i = 0; i < nodes; ++i) names.push_back("n" + std::to_string(i));
  return nlohmann::json{{"Pod", aliyun_pod("p", 4)}, {"NodeNames", names}}.dump();
}

}  // namespace

TEST_CASE("kept-alive filter calls are not slower than a new connection per call (TCP_NODELAY)", "[kube][http]") {
  auto svc = service(20);
  ExtenderMetrics metrics;
  Running r;
  install_extender_routes(r.server, *svc, metrics, HttpOptions{});
  r.start();
  const std::string body = filter_body(20);
  const int calls = 30;
  auto timed = [&](bool keep_alive) {
    const auto t0 = std::chrono::steady_clock::now();
    httplib::Client kept("127.0.0.1", r.port);
    kept.set_keep_alive(true);
    kept.set_tcp_nodelay(true);  // as Go's net/http (kube-scheduler) does
    for (int i = 0; i < calls; ++i) {
      if (keep_alive) {
        auto res = kept.Post("/gpushare-scheduler/filter", body, "application/json");
        REQUIRE(res);
        REQUIRE(res->status == 200);
      } else {
        httplib::Client fresh("127.0.0.1", r.port);
        fresh.set_tcp_nodelay(true);
        auto res = fresh.Post("/gpushare-scheduler/filter", body, "application/json");
        REQUIRE(res);
        REQUIRE(res->status == 200);
      }
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  timed(true);  // warm up
  const double fresh = timed(false), kept = timed(true);
  INFO("kept-alive " << kept << " s, new connection per call " << fresh << " s for " << calls << " calls");
  // Without TCP_NODELAY on the accepted socket each kept-alive reply waited ~40 ms on the
  // client's delayed ACK (about 10x a new connection per call); with it, reusing the connection
  // saves the handshake.  A ratio, never an absolute time.
  CHECK(kept < 1.5 * fresh);
}

TEST_CASE("/metrics: request counts, latency histogram, binds, allocated and total GPU per node", "[kube][http]") {
  auto svc = service(2);
  ExtenderMetrics metrics;
  Running r;
  install_extender_routes(r.server, *svc, metrics, HttpOptions{});
  r.start();
  httplib::Client c("127.0.0.1", r.port);
  REQUIRE(c.Post("/gpushare-scheduler/filter", filter_body(2), "application/json")->status == 200);
  const std::string bind = nlohmann::json{{"PodName", "p"}, {"PodNamespace", "ns"}, {"PodUID", "uid-p"}, {"Node", "n0"}}.dump();
  REQUIRE(c.Post("/gpushare-scheduler/bind", bind, "application/json")->status == 200);
  REQUIRE(c.Post("/gpushare-scheduler/bind", bind, "application/json")->status == 200);  // not seen again: an Error
  REQUIRE(c.Post("/gpushare-scheduler/filter", "not json", "application/json")->status == 400);
  auto res = c.Get("/metrics");
  REQUIRE(res);
  const std::string m = res->body;
  INFO(m);
  CHECK(m.find("gpushare_extender_requests_total{verb=\"filter\",outcome=\"ok\"} 1\n") != std::string::npos);
  CHECK(m.find("gpushare_extender_requests_total{verb=\"filter\",outcome=\"error\"} 1\n") != std::string::npos);
  CHECK(m.find("gpushare_extender_request_duration_seconds_count{verb=\"bind\"} 2\n") != std::string::npos);
  CHECK(m.find("gpushare_extender_request_duration_seconds_bucket{verb=\"bind\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(m.find("gpushare_extender_binds_total{outcome=\"ok\"} 1\n") != std::string::npos);
  CHECK(m.find("gpushare_extender_binds_total{outcome=\"failed\"} 1\n") != std::string::npos);
  CHECK(m.find("gpushare_gpu_memory_allocated_mib{node=\"n0\"} 4096\n") != std::string::npos);
  CHECK(m.find("gpushare_gpu_memory_total_mib{node=\"n1\"} 32768\n") != std::string::npos);
  // 12 GiB free on the used GPU of n0, out of 60 GiB free in all.
  CHECK(m.find("gpushare_gpu_memory_fragmentation 0.2\n") != std::string::npos);
  // Histogram buckets are cumulative.
  std::istringstream lines(m);
  std::string line;
  long last = -1;
  for (std::getline(lines, line); lines; std::getline(lines, line)) {
    if (line.rfind("gpushare_extender_request_duration_seconds_bucket{verb=\"filter\"", 0) != 0) continue;
    const long v = std::stol(line.substr(line.rfind(' ') + 1));
    CHECK(v >= last);
    last = v;
  }
  CHECK(last == 2);
}

TEST_CASE("a follower answers only /healthz; -v=2 logs one line per request", "[kube][http]") {
  auto svc = service(2);
  ExtenderMetrics metrics;
  std::atomic<bool> leader{false};
  std::ostringstream log;
  HttpOptions o;
  o.serving = [&] { return leader.load(); };
  o.verbosity = 2;
  o.log = &log;
  Running r;
  install_extender_routes(r.server, *svc, metrics, o);
  r.start();
  httplib::Client c("127.0.0.1", r.port);
  CHECK(c.Get("/healthz")->status == 200);
  CHECK(c.Get("/readyz")->status == 503);
  CHECK(c.Get("/inspect")->status == 503);
  CHECK(c.Get("/metrics")->status == 503);
  CHECK(c.Post("/gpushare-scheduler/filter", filter_body(2), "application/json")->status == 503);
  CHECK(log.str().empty());
  leader = true;
  CHECK(c.Post("/gpushare-scheduler/filter", filter_body(2), "application/json")->status == 200);
  CHECK(c.Get("/inspect")->status == 200);
  CHECK(c.Get("/readyz")->status == 200);
  const std::string l = log.str();
  CHECK(l.find("gpushare-extender: filter pod=ns/p nodes_in=2 nodes_out=2 decision=\"0 failed\" ms=") == 0);
  CHECK(std::count(l.begin(), l.end(), '\n') == 1);
}

TEST_CASE("informer backoff doubles up to its maximum and starts over after a success", "[kube]") {
  using ms = std::chrono::milliseconds;
  Backoff b(ms(200), ms(1000));
  CHECK(b.next() == ms(200));
  CHECK(b.next() == ms(400));
  CHECK(b.next() == ms(800));
  CHECK(b.next() == ms(1000));
  CHECK(b.next() == ms(1000));
  b.reset();
  CHECK(b.next() == ms(200));
}
