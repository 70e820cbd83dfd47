// Informer against a loopback server that answers list and watch as kube-apiserver does:
// list then watch from the list's resourceVersion, bookmarks advance it, a watch the server
// ends is resumed from the last version, an error status is retried with backoff, and an
// ERROR event (410 Expired) starts over with a fresh list, whose differences come out as
// add/update/delete callbacks.  (The real kube-apiserver is exercised by tests/e2e.)
#include <gpushare/k8s/informer.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace gpushare;
using namespace gpushare::k8s;

namespace {
nlohmann::json obj(const std::string& name, const std::string& rv, const std::string& label = "") {
  return {{"metadata", {{"name", name}, {"resourceVersion", rv}, {"labels", {{"l", label}}}}}};
}
}  // namespace

TEST_CASE("informer: list, watch from the version, bookmarks, resume, retry on 500, relist on 410", "[kube]") {
  httplib::Server srv;
  std::mutex m;
  std::vector<std::string> watched_from;  // resourceVersion of every watch call
  int lists = 0, watches = 0;
  srv.Get("/api/v1/nodes", [&](const httplib::Request& r, httplib::Response& res) {
    std::lock_guard<std::mutex> l(m);
    if (!r.has_param("watch")) {
      ++lists;
      // The second list (after the 410) no longer has "a", has "b" changed and "c" new.
      nlohmann::json items = lists == 1 ? nlohmann::json{obj("a", "1"), obj("b", "2")} : nlohmann::json{obj("b", "9", "x"), obj("c", "9")};
      res.set_content(nlohmann::json{{"kind", "NodeList"}, {"metadata", {{"resourceVersion", lists == 1 ? "2" : "9"}}}, {"items", items}}.dump(),
                      "application/json");
      return;
    }
    ++watches;
    watched_from.push_back(r.get_param_value("resourceVersion"));
    std::string body;
    if (watches == 1) {  // an event and a bookmark, then the server ends the watch
      body = nlohmann::json{{"type", "MODIFIED"}, {"object", obj("a", "3", "y")}}.dump() + "\n" +
             nlohmann::json{{"type", "BOOKMARK"}, {"object", {{"metadata", {{"resourceVersion", "5"}}}}}}.dump() + "\n";
    } else if (watches == 2) {  // a server error: retried after a backoff
      res.status = 500;
      res.set_content(R"({"kind":"Status","message":"etcd is down","reason":"InternalError","code":500})", "application/json");
      return;
    } else if (watches == 3) {  // too old: start over
      body = nlohmann::json{{"type", "ERROR"}, {"object", {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}}}}.dump() + "\n";
    } else {  // keep the stream open until the test stops the informer
      res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return sink.is_writable();
      });
      return;
    }
    res.set_content(body, "application/json");
  });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  KubeConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(port);
  cfg.source = "test";
  ApiClient api(cfg);
  std::vector<std::string> seen, problems;
  std::atomic<int> changes{0};
  std::mutex sm;
  Informer::Handlers h;
  h.on_add = [&](const nlohmann::json& o) {
    std::lock_guard<std::mutex> l(sm);
    seen.push_back("add " + object_key(o));
  };
  h.on_update = [&](const nlohmann::json& a, const nlohmann::json& b) {
    std::lock_guard<std::mutex> l(sm);
    seen.push_back("update " + object_key(a) + " " + a["metadata"].value("resourceVersion", "") + "->" + b["metadata"].value("resourceVersion", ""));
  };
  h.on_delete = [&](const nlohmann::json& o) {
    std::lock_guard<std::mutex> l(sm);
    seen.push_back("delete " + object_key(o));
  };
  h.on_change = [&] { ++changes; };
  h.on_problem = [&](const std::string& s) {
    std::lock_guard<std::mutex> l(sm);
    problems.push_back(s);
  };
  Informer inf(api, "/api/v1/nodes", h);
  inf.start();
  REQUIRE(inf.wait_synced(std::chrono::seconds(10)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (inf.lists() < 2 || watches < 4) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  inf.stop();
  srv.stop();
  t.join();

  std::lock_guard<std::mutex> l(sm);
  CHECK(seen == std::vector<std::string>{"add a", "add b", "update a 1->3", "update b 2->9", "add c", "delete a"});
  {
    std::lock_guard<std::mutex> l2(m);
    // First watch from the list's version; resumed from the bookmark's; after the 410, from the new list's.
    REQUIRE(watched_from.size() >= 4);
    CHECK(watched_from[0] == "2");
    CHECK(watched_from[1] == "5");
    CHECK(watched_from[2] == "5");
    CHECK(watched_from[3] == "9");
  }
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].find("GET /api/v1/nodes?watch=1") != std::string::npos);
  CHECK(problems[0].find("500 InternalError: etcd is down; retrying") != std::string::npos);
  CHECK(problems[1].find("ERROR event 410 Expired: too old; listing again") != std::string::npos);
  const auto items = inf.items();
  REQUIRE(items.size() == 2);
  CHECK(items[0]["metadata"]["labels"]["l"] == "x");
  CHECK(changes >= 3);
}
