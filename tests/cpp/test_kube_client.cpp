// The Kubernetes API client's pure parts (kubeconfig, base64, watch decoding, Status messages)
// and its HTTP behaviour against a loopback httplib server that answers as kube-apiserver does
// (Status objects, chunked watch streams, TLS with a client certificate).  The real
// kube-apiserver is exercised by tests/e2e.
#include <gpushare/k8s/api_client.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

using namespace gpushare;
using namespace gpushare::k8s;

namespace {

std::string scratch_dir() {
  static std::string d = [] {
    char tmpl[] = "/tmp/gpushare-kube-XXXXXX";
    return std::string(mkdtemp(tmpl));
  }();
  return d;
}

std::string write(const std::string& name, const std::string& text) {
  const std::string p = scratch_dir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

std::string b64(const std::string& s) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (unsigned char c : s) {
    v = (v << 8) | c;
    bits += 8;
    while (bits >= 6) out.push_back(t[(v >> (bits -= 6)) & 63]);
  }
  if (bits) out.push_back(t[(v << (6 - bits)) & 63]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

std::string slurp(const std::string& p) { return detail::read_whole_file(p, "test"); }

// A self-signed certificate for 127.0.0.1 (server and client), made once with the openssl tool.
void make_certs() {
  static bool done = [] {
    const std::string d = scratch_dir();
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + d + "/key.pem -out " + d +
                            "/cert.pem -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return true;
  }();
  (void)done;
}

const char* kubeconfig_text = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: gpu}
- name: other
  context: {cluster: c2, user: u2}
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: ca.crt}
- name: c2
  cluster: {server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}
users:
- name: u1
  user: {token: abc123}
- name: u2
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
)";

}  // namespace

TEST_CASE("base64_decode decodes and names the field on bad input", "[kube]") {
  CHECK(base64_decode("aGVsbG8=", "f") == "hello");
  CHECK(base64_decode("aGVs\nbG8", "f") == "hello");
  CHECK(base64_decode(b64(std::string("\0\xff\x10", 3)), "f") == std::string("\0\xff\x10", 3));
  CHECK_THROWS_WITH(base64_decode("aGV*", "user 'u'.client-key-data"), Catch::Contains("user 'u'.client-key-data") && Catch::Contains("'*'"));
  CHECK_THROWS_AS(base64_decode("a", "f"), ParseError);
}

TEST_CASE("kubeconfig: current context, relative CA path, token; another context with client cert data", "[kube]") {
  write("ca.crt", "CA-PEM");
  const auto path = write("config", kubeconfig_text);
  const KubeConfig c = load_kubeconfig(path);
  CHECK(c.server == "https://127.0.0.1:6443");
  CHECK(c.token == "abc123");
  CHECK(c.ca_pem == "CA-PEM");
  CHECK(c.namespace_name == "gpu");
  CHECK_FALSE(c.insecure_skip_tls_verify);
  const KubeConfig o = load_kubeconfig(path, "other");
  CHECK(o.server == "http://127.0.0.1:8080");
  CHECK(o.client_cert_pem == "CERT");
  CHECK(o.client_key_pem == "KEY");
  CHECK(o.insecure_skip_tls_verify);
  CHECK(o.namespace_name == "default");
}

TEST_CASE("kubeconfig: malformed files are refused naming the file and the field", "[kube]") {
  using Catch::Contains;
  CHECK_THROWS_WITH(load_kubeconfig(scratch_dir() + "/missing"), Contains("missing"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad1", "clusters: [unclosed")), Contains("bad1") && Contains("not YAML"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad2", "- a\n- b\n")), Contains("mapping"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad3", "kind: Config\n")), Contains("no current-context"));
  std::string t = kubeconfig_text;
  CHECK_THROWS_WITH(load_kubeconfig(write("bad4", t), "nope"), Contains("no context named 'nope'"));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = t;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  CHECK_THROWS_WITH(load_kubeconfig(write("bad5", with("https://127.0.0.1:6443", "ftp://x"))), Contains("cluster 'c1'.server"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad6", with("client-certificate-data: Q0VSVA==, ", "")), "other"), Contains("needs its key"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad7", with("S0VZ", "S0%Z")), "other"), Contains("user 'u2'.client-key-data"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad8", with("{token: abc123}", "{exec: {command: aws}}"))),
                    Contains("user 'u1'.exec") && Contains("not supported"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad9", with("ca.crt", "nowhere.crt"))), Contains("certificate-authority") && Contains("nowhere.crt"));
  CHECK_THROWS_WITH(load_kubeconfig(write("bad10", with("insecure-skip-tls-verify: true", "insecure-skip-tls-verify: maybe")), "other"),
                    Contains("insecure-skip-tls-verify"));
}

TEST_CASE("in-cluster config reads the service account folder and the environment", "[kube]") {
  const std::string d = scratch_dir() + "/sa";
  REQUIRE(std::system(("mkdir -p " + d).c_str()) == 0);
  write("sa/token", "tok\n");
  write("sa/ca.crt", "CA");
  write("sa/namespace", "kube-system");
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  const KubeConfig c = in_cluster_config(d);
  CHECK(c.server == "https://10.0.0.1:443");
  CHECK(c.token_file == d + "/token");
  CHECK(c.namespace_name == "kube-system");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(in_cluster_config(d).server == "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_THROWS_WITH(in_cluster_config(d), Catch::Contains("KUBERNETES_SERVICE_HOST"));
}

TEST_CASE("watch decoder joins lines torn across chunks and rejects malformed events", "[kube]") {
  const std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}\n"
      "\n{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n";
  // Every split point of the stream into two chunks, and one byte at a time.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchDecoder d;
    std::vector<std::string> seen;
    auto on = [&](const WatchEvent& e) {
      seen.push_back(e.type);
      return true;
    };
    REQUIRE(d.feed(stream.data(), cut, on, "w"));
    REQUIRE(d.feed(stream.data() + cut, stream.size() - cut, on, "w"));
    CHECK(seen == std::vector<std::string>{"ADDED", "BOOKMARK", "DELETED"});
    CHECK(d.pending().empty());
  }
  WatchDecoder d;
  int n = 0;
  for (char c : stream) d.feed(&c, 1, [&](const WatchEvent&) { return ++n, true; }, "w");
  CHECK(n == 3);
  WatchDecoder torn;
  torn.feed(stream.data(), 20, [](const WatchEvent&) { return true; }, "w");
  CHECK(torn.pending().size() == 20);
  WatchDecoder bad;
  CHECK_THROWS_WITH(bad.feed("{\"type\":1}\n", 11, [](const WatchEvent&) { return true; }, "GET /api/v1/pods"),
                    Catch::Contains("GET /api/v1/pods") && Catch::Contains("'type'"));
  CHECK_THROWS_AS(WatchDecoder::decode("not json", "w"), ParseError);
  // A callback returning false stops at that event.
  WatchDecoder stop;
  int k = 0;
  CHECK_FALSE(stop.feed(stream.data(), stream.size(), [&](const WatchEvent&) { return ++k < 2; }, "w"));
  CHECK(k == 2);
}

TEST_CASE("Status messages carry the status, reason and message", "[kube]") {
  auto m = status_message(409, R"({"kind":"Status","status":"Failure","message":"pods \"p\" already assigned","reason":"Conflict","code":409})");
  CHECK(m.first == "Conflict");
  CHECK(m.second == "409 Conflict: pods \"p\" already assigned");
  CHECK(status_message(502, "bad gateway\n").second == "502: bad gateway");
}

TEST_CASE("ApiClient: verbs, errors naming server/verb/path/status, paging, watch, token rotation", "[kube]") {
  httplib::Server srv;
  std::vector<std::string> seen;  // "VERB path?query auth content-type"
  std::mutex m;
  auto log = [&](const httplib::Request& r) {
    std::lock_guard<std::mutex> l(m);
    std::string q;
    for (const auto& p : r.params) q += (q.empty() ? "?" : "&") + p.first + "=" + p.second;
    seen.push_back(r.method + " " + r.path + q + " " + r.get_header_value("Authorization") + " " + r.get_header_value("Content-Type"));
  };
  srv.Get("/api/v1/nodes", [&](const httplib::Request& r, httplib::Response& res) {
    log(r);
    if (r.has_param("watch")) {
      // Two events torn across chunks, then an ERROR event, as the server streams them.
      res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
        const std::string a = R"({"type":"ADDED","object":{"metadata":{"name":"n1"}}})" "\n" R"({"type":"MODI)";
        const std::string b = R"(FIED","object":{"metadata":{"name":"n1"}}})" "\n"
                              R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})" "\n";
        sink.write(a.data(), a.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        sink.write(b.data(), b.size());
        sink.done();
        return true;
      });
      return;
    }
    if (r.get_param_value("continue") == "") {
      res.set_content(R"({"kind":"NodeList","metadata":{"resourceVersion":"5","continue":"tok"},"items":[{"metadata":{"name":"n1"}}]})",
                      "application/json");
    } else {
      res.set_content(R"({"kind":"NodeList","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"n2"}}]})", "application/json");
    }
  });
  srv.Post("/api/v1/namespaces/default/pods/p/binding", [&](const httplib::Request& r, httplib::Response& res) {
    log(r);
    res.status = 409;
    res.set_content(R"({"kind":"Status","status":"Failure","message":"pod p is already assigned to node \"n16\"","reason":"Conflict","code":409})",
                    "application/json");
  });
  srv.Patch("/api/v1/namespaces/default/pods/p", [&](const httplib::Request& r, httplib::Response& res) {
    log(r);
    res.set_content(r.body, "application/json");
  });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  const std::string token_file = write("token", "first\n");
  KubeConfig cfg;
  cfg.server = "http://127.0.0.1:" + std::to_string(port);
  cfg.token_file = token_file;
  cfg.source = "test";
  ApiClient api(cfg);

  const auto all = api.list_all("/api/v1/nodes", {});
  REQUIRE(all["items"].size() == 2);
  CHECK(all["items"][1]["metadata"]["name"] == "n2");
  CHECK(all["metadata"]["resourceVersion"] == "5");
  CHECK_FALSE(all["metadata"].contains("continue"));

  try {
    api.create("/api/v1/namespaces/default/pods/p/binding", {{"kind", "Binding"}});
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.status() == 409);
    CHECK(e.reason() == "Conflict");
    CHECK(e.kind() == ErrorKind::conflict);
    const std::string w = e.what();
    CHECK(w == cfg.server + ": POST /api/v1/namespaces/default/pods/p/binding: 409 Conflict: pod p is already assigned to node \"n16\"");
  }
  CHECK(api.patch("/api/v1/namespaces/default/pods/p", {{"metadata", {{"annotations", {{"a", "b"}}}}}}, ApiClient::PatchType::Merge)
            ["metadata"]["annotations"]["a"] == "b");
  try {
    api.get("/api/v1/namespaces/default/pods/none");
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.status() == 404);
    CHECK(e.kind() == ErrorKind::not_found);
    CHECK(std::string(e.what()).find("GET /api/v1/namespaces/default/pods/none: 404") != std::string::npos);
  }

  // The token file is rotated: the next call sends the new one.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  write("token", "second\n");
  std::vector<std::string> types;
  api.watch("/api/v1/nodes", WatchOptions{"5", true, 10, "", ""}, [&](const WatchEvent& e) {
    types.push_back(e.type);
    return true;
  });
  CHECK(types == std::vector<std::string>{"ADDED", "MODIFIED", "ERROR"});

  {
    std::lock_guard<std::mutex> l(m);
    CHECK(seen[0] == "GET /api/v1/nodes?limit=500 Bearer first ");
    CHECK(seen[1] == "GET /api/v1/nodes?continue=tok&limit=500 Bearer first ");
    CHECK(seen[2] == "POST /api/v1/namespaces/default/pods/p/binding Bearer first application/json");
    CHECK(seen[3] == "PATCH /api/v1/namespaces/default/pods/p Bearer first application/merge-patch+json");
    CHECK(seen.back() == "GET /api/v1/nodes?allowWatchBookmarks=true&resourceVersion=5&timeoutSeconds=10&watch=1 Bearer second ");
  }
  srv.stop();
  t.join();

  // Nothing listens any more: the error says so and names the call.
  try {
    api.get("/api/v1/nodes");
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.status() == 0);
    CHECK(std::string(e.what()).find(cfg.server + ": GET /api/v1/nodes: ") == 0);
  }
}

TEST_CASE("ApiClient over TLS: verifies the server with the CA, presents the client certificate, stop_watches ends a watch", "[kube]") {
  make_certs();
  const std::string d = scratch_dir();
  httplib::SSLServer srv((d + "/cert.pem").c_str(), (d + "/key.pem").c_str(), (d + "/cert.pem").c_str());
  srv.set_keep_alive_timeout(1);
  REQUIRE(srv.is_valid());
  std::atomic<bool> had_client_cert{false};
  srv.Get("/api/v1/pods", [&](const httplib::Request& r, httplib::Response& res) {
    if (r.has_param("watch")) {
      res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return sink.is_writable();
      });
      return;
    }
    X509* peer = r.ssl ? SSL_get_peer_certificate(r.ssl) : nullptr;  // a new reference
    had_client_cert = peer != nullptr;
    X509_free(peer);
    res.set_content(R"({"kind":"PodList","metadata":{"resourceVersion":"1"},"items":[]})", "application/json");
  });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  KubeConfig cfg;
  cfg.server = "https://127.0.0.1:" + std::to_string(port);
  cfg.ca_pem = slurp(d + "/cert.pem");
  cfg.client_cert_pem = slurp(d + "/cert.pem");
  cfg.client_key_pem = slurp(d + "/key.pem");
  cfg.source = "test";
  ApiClient api(cfg);
  CHECK(api.list("/api/v1/pods")["kind"] == "PodList");
  CHECK(had_client_cert);

  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    api.stop_watches();
  });
  api.watch("/api/v1/pods", {}, [](const WatchEvent&) { return true; });  // returns once stopped
  stopper.join();

  // Without the CA the server's self-signed certificate is refused; insecure-skip-tls-verify accepts it.
  KubeConfig no_ca = cfg;
  no_ca.ca_pem.clear();
  CHECK_THROWS_AS(ApiClient(no_ca).get("/api/v1/pods"), ApiError);
  no_ca.insecure_skip_tls_verify = true;
  CHECK(ApiClient(no_ca).get("/api/v1/pods")["kind"] == "PodList");
  KubeConfig bad = cfg;
  bad.ca_pem = "garbage";
  CHECK_THROWS_WITH(ApiClient(bad), Catch::Contains("certificate authority"));
  srv.stop();
  t.join();
}
