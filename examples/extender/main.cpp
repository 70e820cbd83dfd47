// gpushare-extender — a kube-scheduler extender (v1 HTTP protocol) over gpushare.
//
//   gpushare-extender --dialect aliyun --policy best-fit --port 39999 --state /var/lib/gpushare/state.jsonl
//
// Verbs (POST, JSON): <prefix>/filter, <prefix>/prioritize, <prefix>/bind; GET /inspect and
// GET /healthz.  See docs/KUBERNETES.md for the KubeSchedulerConfiguration that calls it.
#include <gpushare/k8s/extender_dialects.hpp>
#include <gpushare/k8s/extender_service.hpp>
#include <gpushare/k8s/recover.hpp>
#include <gpushare/io/topology_json.hpp>

#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

namespace {

const char* usage =
    "usage: gpushare-extender [options]\n"
    "  --dialect NAME     aliyun | tencent | hami | nvidia   (default aliyun)\n"
    "  --policy NAME      a live policy of the catalogue, listed below (default best-fit)\n"
    "  --topology FILE    JSON {node name: topology} of GPU topologies (topology-aware, nvidia)\n"
    "  --address ADDR     listen address (default 127.0.0.1)\n"
    "  --port N           listen port (default 39999)\n"
    "  --url-prefix P     prefix of the verbs (default /gpushare-scheduler)\n"
    "  --state FILE       allocation journal: replayed at start, appended on every bind\n"
    "  --nodes FILE       core/v1 NodeList JSON to know nodes before the first call (nodeCacheCapable)\n"
    "  --pods FILE        core/v1 PodList JSON: rebuild allocations from the pods' bind annotations (needs --nodes)\n"
    "  --binds FILE       where binds are recorded (JSON lines; default <state>.binds or ./binds.jsonl)\n"
    "  --read-timeout S   seconds a client may take to send its request, or stay idle (default 5)\n"
    "  --help             this text\n";

struct Options {
  std::string dialect = "aliyun", policy = "best-fit", address = "127.0.0.1", prefix = "/gpushare-scheduler";
  std::string state, nodes, pods, binds, topology;
  int port = 39999;
  int read_timeout = 5;
};

Options parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string*> text = {{"--dialect", &o.dialect}, {"--policy", &o.policy},
                                              {"--address", &o.address}, {"--url-prefix", &o.prefix},
                                              {"--state", &o.state},     {"--nodes", &o.nodes},       {"--pods", &o.pods},
                                              {"--binds", &o.binds},     {"--topology", &o.topology}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << usage << "policies (--policy; aliases in parentheses):\n";
      for (const auto& row : gpushare::catalogue())
        if (row.live()) {
          std::cout << "  " << row.name;
          for (std::size_t k = 0; k < row.aliases.size(); ++k) std::cout << (k ? ", " : " (") << row.aliases[k];
          std::cout << (row.aliases.empty() ? "" : ")") << "\n      " << row.description << "\n";
        }
      std::exit(0);
    }
    if (i + 1 >= argc) throw gpushare::InvalidArgument("option " + a + " needs a value (see --help)");
    const std::string v = argv[++i];
    if (auto it = text.find(a); it != text.end()) {
      *it->second = v;
    } else if (a == "--port" || a == "--read-timeout") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n <= 0 || n > 65535) throw gpushare::InvalidArgument("option " + a + ": expected a positive number, got '" + v + "'");
      (a == "--port" ? o.port : o.read_timeout) = static_cast<int>(n);
    } else {
      throw gpushare::InvalidArgument("unknown option " + a + " (see --help)");
    }
  }
  if (o.prefix.empty() || o.prefix.front() != '/') o.prefix = "/" + o.prefix;
  while (o.prefix.size() > 1 && o.prefix.back() == '/') o.prefix.pop_back();
  if (o.binds.empty()) o.binds = o.state.empty() ? "binds.jsonl" : o.state + ".binds";
  return o;
}

nlohmann::json read_list(const std::string& path, const char* flag, const char* kind) {
  std::ifstream in(path);
  if (!in) throw gpushare::NotFound(std::string(flag) + ": cannot read " + path);
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw gpushare::ParseError(std::string(flag) + " " + path + ": " + e.what());
  }
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array())
    throw gpushare::ParseError(std::string(flag) + " " + path + ": expected a " + kind + " with an items array");
  return list;
}

void reply(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gpushare;
  Options opt;
  std::unique_ptr<k8s::ExtenderService> svc;
  try {
    opt = parse(argc, argv);
    std::optional<std::string> state;
    if (!opt.state.empty()) state = opt.state;
    PolicyOptions popt;
    if (!opt.topology.empty()) {
      std::ifstream in(opt.topology);
      if (!in) throw NotFound("--topology: cannot read " + opt.topology);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const nlohmann::json::parse_error& e) {
        throw ParseError("--topology " + opt.topology + ": " + e.what());
      }
      popt.topologies = std::make_shared<const NodeTopologies>(node_topologies_from_json(j));
    }
    svc = std::make_unique<k8s::ExtenderService>(k8s::make_extender_dialect(opt.dialect), make_policy(opt.policy, popt),
                                                 std::make_shared<k8s::JournalBinder>(opt.binds), state);
    nlohmann::json node_list;
    if (!opt.nodes.empty()) {
      node_list = read_list(opt.nodes, "--nodes", "NodeList");
      for (const auto& n : node_list["items"]) svc->upsert_node(n);
    }
    const auto report = svc->recover();
    std::cerr << "gpushare-extender: dialect " << opt.dialect << ", policy " << opt.policy << ", recovered "
              << report.applied << " operations from the journal\n";
    for (const auto& p : report.problems) std::cerr << "  could not re-apply: " << p << "\n";
    if (!opt.pods.empty()) {
      if (opt.nodes.empty()) throw InvalidArgument("--pods needs --nodes (the pods' annotations point at those nodes)");
      const auto rec = k8s::recover_cluster(node_list, read_list(opt.pods, "--pods", "PodList"), k8s::parse_dialect(opt.dialect));
      const auto problems = svc->adopt(rec.placements);
      std::cerr << "gpushare-extender: " << rec.placements.size() - problems.size() << " allocations recovered from pod annotations\n";
      for (const auto& u : rec.unplaced) std::cerr << "  not recovered: " << u.pod << ": " << u.reason << "\n";
      for (const auto& p : problems) std::cerr << "  not adopted: " << p << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "gpushare-extender: " << e.what() << "\n";
    return 2;
  }

  httplib::Server server;
  server.set_read_timeout(opt.read_timeout, 0);
  server.set_write_timeout(opt.read_timeout, 0);
  server.set_keep_alive_timeout(opt.read_timeout);  // idle (kept-alive) connections too
  server.set_payload_max_length(64u << 20);
  auto json_verb = [&](auto fn) {
    return [&svc, fn](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json body;
      try {
        body = nlohmann::json::parse(req.body);
      } catch (const nlohmann::json::parse_error& e) {
        reply(res, {{"Error", std::string("request body is not JSON: ") + e.what()}}, 400);
        return;
      }
      try {
        reply(res, fn(*svc, body));
      } catch (const std::exception& e) {
        reply(res, {{"Error", e.what()}}, 400);
      }
    };
  };
  server.Post(opt.prefix + "/filter", json_verb([](k8s::ExtenderService& s, const nlohmann::json& b) { return s.filter(b); }));
  server.Post(opt.prefix + "/prioritize", json_verb([](k8s::ExtenderService& s, const nlohmann::json& b) { return s.prioritize(b); }));
  server.Post(opt.prefix + "/bind", json_verb([](k8s::ExtenderService& s, const nlohmann::json& b) { return s.bind(b); }));
  server.Get("/inspect", [&](const httplib::Request&, httplib::Response& res) { reply(res, svc->inspect()); });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  std::cerr << "gpushare-extender: listening on " << opt.address << ":" << opt.port << opt.prefix << "\n";
  if (!server.listen(opt.address.c_str(), opt.port)) {
    std::cerr << "gpushare-extender: cannot listen on " << opt.address << ":" << opt.port << "\n";
    return 1;
  }
  return 0;
}
