// gpushare/k8s/api_client.hpp — a small Kubernetes API client over cpp-httplib + OpenSSL
// (link gpushare::kube, which defines CPPHTTPLIB_OPENSSL_SUPPORT as Debian's library was built).
//
// Verbs: get, list (one page, with resourceVersion / limit / continue / selectors) and
// list_all (follows `continue`), watch (a streaming GET whose line-delimited JSON events go to a
// callback; torn lines across chunks are joined), create (POST, e.g. pods/NAME/binding),
// replace (PUT), patch (merge-patch or strategic-merge-patch) and remove (DELETE).
// Every failure is an ApiError naming the server, the verb and path, the HTTP status and the
// Status object's reason and message (or the transport error when no answer came back).
// The bearer token file is re-read whenever its modification time changes (service account
// tokens rotate).  Unary calls share one kept-alive connection (serialised by a mutex); every
// watch has its own connection, which stop_watches() closes from any thread.
//
// @code
//   gpushare::k8s::ApiClient api(gpushare::k8s::load_kubeconfig("kubeconfig"));
//   nlohmann::json nodes = api.list_all("/api/v1/nodes");
//   api.watch("/api/v1/pods", {nodes["metadata"]["resourceVersion"]}, [](const gpushare::k8s::WatchEvent& e) {
//     std::cout << e.type << " " << e.object["metadata"]["name"] << "\n";
//     return true;  // keep watching
//   });
// @endcode
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gpushare/k8s/kubeconfig.hpp"

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#error "gpushare/k8s/api_client.hpp needs CPPHTTPLIB_OPENSSL_SUPPORT (link gpushare::kube)"
#endif

namespace gpushare {
namespace k8s {

/// @brief A failed API call: server, verb, path, HTTP status (0 when no answer) and the Status message.
class ApiError : public Error {
 public:
  ApiError(int status, std::string reason, const std::string& message)
      : Error(kind_of(status), message), status_(status), reason_(std::move(reason)) {}
  /// @brief HTTP status; 0 when the request got no answer (connection refused, TLS failure, timeout).
  int status() const noexcept { return status_; }
  /// @brief The Status object's reason ("NotFound", "Conflict", "Expired", ...), or "".
  const std::string& reason() const noexcept { return reason_; }

 private:
  static ErrorKind kind_of(int s) {
    if (s == 404) return ErrorKind::not_found;
    if (s == 400 || s == 422) return ErrorKind::invalid_argument;
    return ErrorKind::conflict;
  }
  int status_;
  std::string reason_;
};

/// @brief The message of an error reply: "<status>[ <reason>]: <Status.message>" or the raw body.
inline std::pair<std::string, std::string> status_message(int status, const std::string& body) {
  std::string reason, message;
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_object()) {
      if (j.contains("reason") && j["reason"].is_string()) reason = j["reason"].get<std::string>();
      if (j.contains("message") && j["message"].is_string()) message = j["message"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  if (message.empty()) message = body.size() > 300 ? body.substr(0, 300) + "..." : body;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  std::string text = std::to_string(status);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  return {reason, text};
}

/// @brief One watch event: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR, and its object.
struct WatchEvent {
  std::string type;
  nlohmann::json object;
};

/// @brief Splits a watch stream into events; a line torn across chunks is kept until its end arrives.
class WatchDecoder {
 public:
  /// @brief Feeds bytes; calls `on_event` per complete line; returns false as soon as it does.
  /// A line that is not a watch event throws ParseError naming `what` and the line.
  bool feed(const char* data, std::size_t n, const std::function<bool(const WatchEvent&)>& on_event, const std::string& what) {
    buf_.append(data, n);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string line = buf_.substr(start, nl - start);
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      WatchEvent e = decode(line, what);
      if (!on_event(e)) {
        buf_.erase(0, nl + 1);
        return false;
      }
    }
    buf_.erase(0, start);
    return true;
  }
  /// @brief Bytes of an incomplete last line (non-empty when a stream ended mid-event).
  const std::string& pending() const { return buf_; }

  static WatchEvent decode(const std::string& line, const std::string& what) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw ParseError(what + ": watch event is not JSON (" + e.what() + "): " + line.substr(0, 200));
    }
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object") || !j["object"].is_object())
      throw ParseError(what + ": watch event without a string 'type' and an 'object': " + line.substr(0, 200));
    return WatchEvent{j["type"].get<std::string>(), std::move(j["object"])};
  }

 private:
  std::string buf_;
};

/// @brief Options of a list call (empty fields are not sent).
struct ListOptions {
  std::string resource_version;  ///< e.g. "0" to read from the cache
  long limit = 0;                ///< page size (0: the server's default, all)
  std::string continue_token;    ///< from the previous page's metadata.continue
  std::string label_selector;
  std::string field_selector;
};

/// @brief Options of a watch call.
struct WatchOptions {
  std::string resource_version;  ///< start after this version (from the list)
  bool allow_bookmarks = true;
  int timeout_seconds = 300;     ///< the server ends the watch after this long
  std::string label_selector;
  std::string field_selector;
};

/// @brief Percent-encodes a query value.
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

/// @brief A Kubernetes API client; every method is thread-safe.
class ApiClient {
 public:
  enum class PatchType { Merge, StrategicMerge, Json };

  explicit ApiClient(KubeConfig cfg) : cfg_(std::move(cfg)) {
    const std::string& s = cfg_.server;
    tls_ = s.rfind("https://", 0) == 0;
    if (!tls_ && s.rfind("http://", 0) != 0) throw InvalidArgument(cfg_.source + ": server '" + s + "': expected http:// or https://");
    std::string rest = s.substr(tls_ ? 8 : 7);
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      prefix_ = rest.substr(slash);
      while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
      rest = rest.substr(0, slash);
    }
    port_ = tls_ ? 443 : 80;
    std::string host = rest;
    if (!rest.empty() && rest.front() == '[') {  // [ipv6]:port
      const auto close = rest.find(']');
      if (close == std::string::npos) throw InvalidArgument(cfg_.source + ": server '" + s + "': unclosed '['");
      host = rest.substr(1, close - 1);
      if (close + 1 < rest.size() && rest[close + 1] == ':') port_ = parse_port(rest.substr(close + 2));
    } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
      host = rest.substr(0, colon);
      port_ = parse_port(rest.substr(colon + 1));
    }
    if (host.empty()) throw InvalidArgument(cfg_.source + ": server '" + s + "': no host");
    host_ = host;
    unary_ = make_client();
  }

  const KubeConfig& config() const { return cfg_; }
  /// @brief The server's URL, as errors name it.
  const std::string& server() const { return cfg_.server; }

  /// @brief GET `path` (e.g. "/api/v1/namespaces/default/pods/p").
  nlohmann::json get(const std::string& path) { return call("GET", path, "", ""); }

  /// @brief One page of a list.
  nlohmann::json list(const std::string& path, const ListOptions& o = {}) {
    std::string q;
    add(q, "resourceVersion", o.resource_version);
    if (o.limit > 0) add(q, "limit", std::to_string(o.limit));
    add(q, "continue", o.continue_token);
    add(q, "labelSelector", o.label_selector);
    add(q, "fieldSelector", o.field_selector);
    return call("GET", path + q, "", "");
  }

  /// @brief Every page of a list joined into one List; metadata.resourceVersion is the snapshot's.
  nlohmann::json list_all(const std::string& path, ListOptions o = {}) {
    if (o.limit == 0) o.limit = 500;
    nlohmann::json all = list(path, o);
    if (!all.contains("items") || !all["items"].is_array()) all["items"] = nlohmann::json::array();
    for (int pages = 0;; ++pages) {
      const auto& meta = all["metadata"];
      if (!meta.is_object() || !meta.contains("continue") || !meta["continue"].is_string() || meta["continue"].get<std::string>().empty())
        break;
      ListOptions next = o;
      next.resource_version.clear();  // the continue token carries the snapshot
      next.continue_token = meta["continue"].get<std::string>();
      nlohmann::json page = list(path, next);
      if (page.contains("items") && page["items"].is_array())
        for (auto& it : page["items"]) all["items"].push_back(std::move(it));
      all["metadata"]["continue"] = page.contains("metadata") && page["metadata"].contains("continue") ? page["metadata"]["continue"] : "";
    }
    all["metadata"].erase("continue");
    return all;
  }

  /// @brief Streams the watch of `path` (a collection) to `on_event` until it returns false, the
  /// server ends the watch (timeout_seconds) or stop_watches() is called.  Returns normally in
  /// those cases; throws ApiError on an error status or a broken connection, ParseError on a
  /// malformed event.  ERROR events (e.g. 410 Expired) are passed to `on_event` like the others.
  void watch(const std::string& path, const WatchOptions& o, const std::function<bool(const WatchEvent&)>& on_event) {
    std::string q = "?watch=1";
    add(q, "resourceVersion", o.resource_version);
    if (o.allow_bookmarks) add(q, "allowWatchBookmarks", "true");
    add(q, "timeoutSeconds", std::to_string(o.timeout_seconds));
    add(q, "labelSelector", o.label_selector);
    add(q, "fieldSelector", o.field_selector);
    const std::string full = prefix_ + path + q;
    const std::string what = cfg_.server + ": GET " + path + q;
    auto cli = make_client();
    cli->set_read_timeout(o.timeout_seconds + 30, 0);
    {
      std::lock_guard<std::mutex> lock(watch_mutex_);
      if (stopping_) return;
      watches_.insert(cli.get());
    }
    struct Untrack {
      ApiClient* self;
      httplib::ClientImpl* c;
      ~Untrack() {
        std::lock_guard<std::mutex> lock(self->watch_mutex_);
        self->watches_.erase(c);
      }
    } untrack{this, cli.get()};
    int status = 0;
    std::string error_body;
    WatchDecoder dec;
    bool stopped_by_callback = false;
    auto res = cli->Get(
        full, headers(),
        [&](const httplib::Response& r) {
          status = r.status;
          return true;
        },
        [&](const char* data, std::size_t n) {
          if (status != 200) {
            error_body.append(data, n);
            return true;
          }
          if (!dec.feed(data, n, on_event, what)) {
            stopped_by_callback = true;
            return false;
          }
          return true;
        });
    if (stopped_by_callback) return;
    {
      std::lock_guard<std::mutex> lock(watch_mutex_);
      if (stopping_) return;
    }
    if (!res) throw ApiError(0, "", what + ": " + httplib::to_string(res.error()));
    if (res->status != 200) {
      auto m = status_message(res->status, error_body.empty() ? res->body : error_body);
      throw ApiError(res->status, m.first, what + ": " + m.second);
    }
  }

  /// @brief Ends every running watch (they return normally) and refuses new ones; for shutdown.
  void stop_watches() {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    stopping_ = true;
    for (auto* c : watches_) c->stop();
  }

  /// @brief True once stop_watches() was called.
  bool watches_stopped() const {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    return stopping_;
  }

  /// @brief POST `body` to `path` (e.g. a Binding to pods/NAME/binding); returns the reply.
  nlohmann::json create(const std::string& path, const nlohmann::json& body) {
    return call("POST", path, body.dump(), "application/json");
  }
  /// @brief PUT `body` to `path` (replace; metadata.resourceVersion makes it conditional).
  nlohmann::json replace(const std::string& path, const nlohmann::json& body) {
    return call("PUT", path, body.dump(), "application/json");
  }
  /// @brief PATCH `path`.
  nlohmann::json patch(const std::string& path, const nlohmann::json& body, PatchType t = PatchType::StrategicMerge) {
    const char* ct = t == PatchType::Merge            ? "application/merge-patch+json"
                     : t == PatchType::StrategicMerge ? "application/strategic-merge-patch+json"
                                                      : "application/json-patch+json";
    return call("PATCH", path, body.dump(), ct);
  }
  /// @brief DELETE `path`.
  nlohmann::json remove(const std::string& path) { return call("DELETE", path, "", ""); }

 private:
  int parse_port(const std::string& p) const {
    char* end = nullptr;
    const long n = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end || n <= 0 || n > 65535) throw InvalidArgument(cfg_.source + ": server '" + cfg_.server + "': bad port '" + p + "'");
    return static_cast<int>(n);
  }

  static void add(std::string& q, const char* key, const std::string& v) {
    if (v.empty()) return;
    q += q.empty() ? '?' : '&';
    q += key;
    q += '=';
    q += url_encode(v);
  }

  std::unique_ptr<httplib::ClientImpl> make_client() const {
    std::unique_ptr<httplib::ClientImpl> c;
    if (tls_) {
      std::unique_ptr<httplib::SSLClient> s;
      if (!cfg_.client_cert_pem.empty()) {
        X509* cert = pem_cert(cfg_.client_cert_pem, "client certificate");
        EVP_PKEY* key = pem_key(cfg_.client_key_pem);
        s = std::make_unique<httplib::SSLClient>(host_, port_, cert, key);
        X509_free(cert);
        EVP_PKEY_free(key);
      } else {
        s = std::make_unique<httplib::SSLClient>(host_, port_);
      }
      if (!s->is_valid()) throw InvalidArgument(cfg_.source + ": the TLS client could not be set up (client certificate and key do not match?)");
      if (!cfg_.ca_pem.empty()) s->set_ca_cert_store(ca_store());
      s->enable_server_certificate_verification(!cfg_.insecure_skip_tls_verify);
      c = std::move(s);
    } else {
      c = std::make_unique<httplib::ClientImpl>(host_, port_);
    }
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(30, 0);
    c->set_write_timeout(30, 0);
    return c;
  }

  X509* pem_cert(const std::string& pem, const char* what) const {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!x) throw ParseError(cfg_.source + ": " + what + ": not a PEM certificate");
    return x;
  }
  EVP_PKEY* pem_key(const std::string& pem) const {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!k) throw ParseError(cfg_.source + ": client key: not a PEM private key");
    return k;
  }
  X509_STORE* ca_store() const {
    X509_STORE* store = X509_STORE_new();
    BIO* bio = BIO_new_mem_buf(cfg_.ca_pem.data(), static_cast<int>(cfg_.ca_pem.size()));
    int n = 0;
    while (X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store, x);
      X509_free(x);
      ++n;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (n == 0) {
      X509_STORE_free(store);
      throw ParseError(cfg_.source + ": certificate authority: no PEM certificate in it");
    }
    return store;
  }

  std::string token() {
    if (cfg_.token_file.empty()) return cfg_.token;
    std::lock_guard<std::mutex> lock(token_mutex_);
    struct stat st {};
    if (::stat(cfg_.token_file.c_str(), &st) == 0 &&
        (st.st_mtim.tv_sec != token_mtime_.tv_sec || st.st_mtim.tv_nsec != token_mtime_.tv_nsec || file_token_.empty())) {
      std::string t = detail::read_whole_file(cfg_.token_file, cfg_.source + ": token file");
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
      file_token_ = t;
      token_mtime_ = st.st_mtim;
    }
    return file_token_;
  }

  httplib::Headers headers() {
    httplib::Headers h{{"Accept", "application/json"}, {"User-Agent", "gpushare-extender"}};
    const std::string t = token();
    if (!t.empty()) h.emplace("Authorization", "Bearer " + t);
    return h;
  }

  nlohmann::json call(const char* verb, const std::string& path, const std::string& body, const char* content_type) {
    const std::string what = cfg_.server + ": " + verb + " " + path;
    httplib::Request req;
    req.method = verb;
    req.path = prefix_ + path;
    req.headers = headers();
    if (*content_type) {
      req.body = body;
      req.headers.emplace("Content-Type", content_type);
    }
    httplib::Result res = [&] {
      std::lock_guard<std::mutex> lock(unary_mutex_);
      return unary_->send(req);
    }();
    if (!res) throw ApiError(0, "", what + ": " + httplib::to_string(res.error()));
    if (res->status < 200 || res->status >= 300) {
      auto m = status_message(res->status, res->body);
      throw ApiError(res->status, m.first, what + ": " + m.second);
    }
    if (res->body.empty()) return nlohmann::json::object();
    try {
      return nlohmann::json::parse(res->body);
    } catch (const nlohmann::json::parse_error& e) {
      throw ParseError(what + ": the reply is not JSON: " + e.what());
    }
  }

  KubeConfig cfg_;
  bool tls_ = false;
  std::string host_, prefix_;
  int port_ = 0;
  std::mutex unary_mutex_;
  std::unique_ptr<httplib::ClientImpl> unary_;
  std::mutex token_mutex_;
  std::string file_token_;
  struct timespec token_mtime_ {};
  mutable std::mutex watch_mutex_;
  std::set<httplib::ClientImpl*> watches_;
  bool stopping_ = false;
};

}  // namespace k8s
}  // namespace gpushare
