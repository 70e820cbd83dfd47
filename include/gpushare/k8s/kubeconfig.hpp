// gpushare/k8s/kubeconfig.hpp — where the Kubernetes API server is and how to authenticate:
// a kubeconfig file (its current context, or a named one) or the in-cluster service account.
// Needs yaml-cpp (link gpushare::kube).
//
// Supported: server, certificate-authority / certificate-authority-data,
// insecure-skip-tls-verify, token / tokenFile, client-certificate(-data) + client-key(-data),
// the context's namespace.  Relative file paths are relative to the kubeconfig's folder, as
// kubectl reads them.  exec and auth-provider plugins and basic auth are refused with an error
// naming the user, since nothing here could run them.  Every error names the file and the field.
//
// @code
//   auto cfg = gpushare::k8s::load_kubeconfig("/etc/kubernetes/scheduler.conf");
//   auto in  = gpushare::k8s::in_cluster_config();   // reads KUBERNETES_SERVICE_HOST/PORT
// @endcode
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace k8s {

/// @brief How to reach and authenticate to one API server.
struct KubeConfig {
  std::string server;                  ///< "https://host:port" or "http://host:port"
  std::string token;                   ///< static bearer token (empty: none)
  std::string token_file;              ///< bearer token file, re-read when it changes (service accounts rotate it)
  std::string ca_pem;                  ///< CA bundle in PEM (empty: the system's CAs)
  std::string client_cert_pem;         ///< client certificate in PEM (empty: none)
  std::string client_key_pem;          ///< its private key in PEM
  bool insecure_skip_tls_verify = false;
  std::string namespace_name = "default";  ///< the context's (or service account's) namespace
  std::string source;                  ///< where this came from, for messages ("kubeconfig FILE context C")
};

namespace detail {

inline std::string read_whole_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFound(what + ": cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string resolve_path(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p.front() == '/' || base_dir.empty()) return p;
  return base_dir + "/" + p;
}

}  // namespace detail

/// @brief Decodes standard base64 (padding optional, whitespace ignored); `what` names the field in errors.
inline std::string base64_decode(const std::string& in, const std::string& what) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = value(c);
    if (v < 0 || padding) throw ParseError(what + ": not valid base64 (unexpected character '" + std::string(1, c) + "')");
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  if (bits >= 6) throw ParseError(what + ": not valid base64 (truncated)");
  return out;
}

/// @brief Reads a kubeconfig file; `context` empty means its current-context.
inline KubeConfig load_kubeconfig(const std::string& path, const std::string& context = "") {
  const std::string text = detail::read_whole_file(path, "kubeconfig");
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ParseError("kubeconfig " + path + ": not YAML: " + e.what());
  }
  const std::string where = "kubeconfig " + path;
  if (!root.IsMap()) throw ParseError(where + ": expected a mapping at the top");
  auto str = [&](const YAML::Node& n, const char* key, const std::string& what) -> std::string {
    const YAML::Node v = n[key];
    if (!v) return "";
    if (!v.IsScalar()) throw ParseError(where + ": " + what + "." + key + ": expected a string");
    return v.as<std::string>();
  };
  auto find_named = [&](const char* list, const std::string& name, const char* inner) -> YAML::Node {
    const YAML::Node l = root[list];
    if (!l || !l.IsSequence()) throw ParseError(where + ": '" + list + "' missing or not a list");
    for (const auto& e : l) {
      if (e.IsMap() && e["name"] && e["name"].IsScalar() && e["name"].as<std::string>() == name) {
        const YAML::Node body = e[inner];
        if (!body || !body.IsMap()) throw ParseError(where + ": " + list + " '" + name + "': no '" + inner + "' mapping");
        return body;
      }
    }
    throw NotFound(where + ": no " + inner + " named '" + name + "' in '" + list + "'");
  };
  std::string ctx_name = context;
  if (ctx_name.empty()) ctx_name = str(root, "current-context", "");
  if (ctx_name.empty()) throw InvalidArgument(where + ": no current-context and no context given");
  const YAML::Node ctx = find_named("contexts", ctx_name, "context");
  const std::string ctx_what = "context '" + ctx_name + "'";
  const std::string cluster_name = str(ctx, "cluster", ctx_what);
  if (cluster_name.empty()) throw ParseError(where + ": " + ctx_what + ": no cluster");
  const std::string user_name = str(ctx, "user", ctx_what);

  KubeConfig c;
  c.source = where + " context " + ctx_name;
  if (auto ns = str(ctx, "namespace", ctx_what); !ns.empty()) c.namespace_name = ns;

  const YAML::Node cl = find_named("clusters", cluster_name, "cluster");
  const std::string cl_what = "cluster '" + cluster_name + "'";
  c.server = str(cl, "server", cl_what);
  if (c.server.empty()) throw ParseError(where + ": " + cl_what + ": no server");
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    throw ParseError(where + ": " + cl_what + ".server: expected http:// or https://, got '" + c.server + "'");
  if (cl["insecure-skip-tls-verify"]) {
    try {
      c.insecure_skip_tls_verify = cl["insecure-skip-tls-verify"].as<bool>();
    } catch (const YAML::Exception&) {
      throw ParseError(where + ": " + cl_what + ".insecure-skip-tls-verify: expected true or false");
    }
  }
  if (auto d = str(cl, "certificate-authority-data", cl_what); !d.empty())
    c.ca_pem = base64_decode(d, where + ": " + cl_what + ".certificate-authority-data");
  else if (auto f = str(cl, "certificate-authority", cl_what); !f.empty())
    c.ca_pem = detail::read_whole_file(detail::resolve_path(dir, f), where + ": " + cl_what + ".certificate-authority");

  if (!user_name.empty()) {
    const YAML::Node u = find_named("users", user_name, "user");
    const std::string u_what = "user '" + user_name + "'";
    for (const char* unsupported : {"exec", "auth-provider", "username", "password"})
      if (u[unsupported])
        throw InvalidArgument(where + ": " + u_what + "." + unsupported +
                              ": not supported by gpushare (use a token, a token file or a client certificate)");
    c.token = str(u, "token", u_what);
    if (auto f = str(u, "tokenFile", u_what); !f.empty()) c.token_file = detail::resolve_path(dir, f);
    if (auto d = str(u, "client-certificate-data", u_what); !d.empty())
      c.client_cert_pem = base64_decode(d, where + ": " + u_what + ".client-certificate-data");
    else if (auto f2 = str(u, "client-certificate", u_what); !f2.empty())
      c.client_cert_pem = detail::read_whole_file(detail::resolve_path(dir, f2), where + ": " + u_what + ".client-certificate");
    if (auto d = str(u, "client-key-data", u_what); !d.empty())
      c.client_key_pem = base64_decode(d, where + ": " + u_what + ".client-key-data");
    else if (auto f3 = str(u, "client-key", u_what); !f3.empty())
      c.client_key_pem = detail::read_whole_file(detail::resolve_path(dir, f3), where + ": " + u_what + ".client-key");
    if (c.client_cert_pem.empty() != c.client_key_pem.empty())
      throw ParseError(where + ": " + u_what + ": a client certificate needs its key and a key its certificate");
  }
  return c;
}

/// @brief The service account a pod runs as: KUBERNETES_SERVICE_HOST/PORT, the token file (re-read
/// when the kubelet rotates it), the CA and the namespace under `dir`.
inline KubeConfig in_cluster_config(const std::string& dir = "/var/run/secrets/kubernetes.io/serviceaccount") {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    throw InvalidArgument("in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not running in a pod?)");
  KubeConfig c;
  const std::string h = host;
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  c.token_file = dir + "/token";
  detail::read_whole_file(c.token_file, "in-cluster config: service account token");
  c.ca_pem = detail::read_whole_file(dir + "/ca.crt", "in-cluster config: service account CA");
  std::ifstream ns(dir + "/namespace");
  std::string n;
  if (ns && std::getline(ns, n) && !n.empty()) c.namespace_name = n;
  c.source = "in-cluster service account (" + dir + ")";
  return c;
}

}  // namespace k8s
}  // namespace gpushare
