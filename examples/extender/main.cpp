// gpushare-extender — a kube-scheduler extender (v1 HTTP protocol) over gpushare.
//
//   gpushare-extender --kubeconfig /etc/kubernetes/scheduler.conf --dialect aliyun --policy best-fit
//   gpushare-extender --in-cluster --leader-elect --lease-namespace kube-system      # in a pod
//   gpushare-extender --nodes nodes.json --state state.jsonl --binder journal         # offline
//
// Verbs (POST, JSON): <prefix>/filter, <prefix>/prioritize, <prefix>/bind; GET /inspect,
// GET /metrics, GET /healthz, GET /readyz and GET / (the cluster view: a self-contained page
// that polls /inspect).  See docs/KUBERNETES.md.  With an API server (--kubeconfig or
// in a pod) nodes and pods are watched and the state is rebuilt from them; binds go to the API
// server (--binder api).  The routes are in gpushare/k8s/extender_http.hpp.
#include <gpushare/k8s/extender_dialects.hpp>
#include <gpushare/k8s/extender_http.hpp>
#include <gpushare/k8s/extender_service.hpp>
#include <gpushare/k8s/recover.hpp>
#include <gpushare/io/topology_json.hpp>
#ifdef GPUSHARE_EXTENDER_KUBE
#include <gpushare/k8s/api_binder.hpp>
#include <gpushare/k8s/cluster_sync.hpp>
#include <gpushare/k8s/leader_election.hpp>
#endif

#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace {

const char* usage =
    "usage: gpushare-extender [options]\n"
    "  --dialect NAME         aliyun | tencent | hami | nvidia   (default aliyun)\n"
    "  --policy NAME          a live policy of the catalogue, listed below (default best-fit)\n"
    "  --topology FILE        JSON {node name: topology} of GPU topologies (topology-aware, nvidia)\n"
    "  --address ADDR         listen address (default 127.0.0.1)\n"
    "  --port N               listen port (default 39999)\n"
    "  --url-prefix P         prefix of the verbs (default /gpushare-scheduler)\n"
    "  --read-timeout S       seconds a client may take to send its request, or stay idle (default 5)\n"
    "  -v N, --v=N            verbosity: 2 logs one line per request (default 0)\n"
    " API server (nodes and pods are watched; the state is rebuilt from them):\n"
    "  --kubeconfig FILE      kubeconfig to reach the API server (its current context, or --context)\n"
    "  --context NAME         kubeconfig context to use\n"
    "  --in-cluster[=BOOL]    use the pod's service account (default: true when KUBERNETES_SERVICE_HOST is set\n"
    "                         and no --kubeconfig, --nodes or --pods is given)\n"
    "  --binder api|journal   where binds go: the API server (default with an API server) or the --binds file\n"
    "  --decide-at bind|filter  bind (default): GPUs chosen and annotations written at bind; filter: as tkestack\n"
    "                         gpu-admission, at filter, passing one node for the default binder (no bindVerb)\n"
    "  --leader-elect[=BOOL]  only the holder of a coordination.k8s.io/v1 Lease serves; the others answer /healthz only\n"
    "  --lease-namespace NS   (default kube-system)   --lease-name NAME (default gpushare-extender)\n"
    "  --lease-duration D     (default 15s)   --renew-deadline D (default 10s)   --retry-period D (default 2s)\n"
    " Offline (no API server):\n"
    "  --state FILE           allocation journal: replayed at start, appended on every bind\n"
    "  --nodes FILE           core/v1 NodeList JSON to know nodes before the first call (nodeCacheCapable)\n"
    "  --pods FILE            core/v1 PodList JSON: rebuild allocations from the pods' bind annotations (needs --nodes)\n"
    "  --binds FILE           where the journal binder records binds (JSON lines; default <state>.binds or ./binds.jsonl)\n"
    "  --help                 this text\n";

struct Options {
  std::string dialect = "aliyun", policy = "best-fit", address = "127.0.0.1", prefix = "/gpushare-scheduler";
  std::string state, nodes, pods, binds, kubeconfig, context, binder, decide_at = "bind", topology;
  std::string lease_namespace = "kube-system", lease_name = "gpushare-extender";
  double lease_duration = 15, renew_deadline = 10, retry_period = 2;
  int in_cluster = -1;  // -1: decide from the environment
  bool leader_elect = false;
  int port = 39999;
  int read_timeout = 5;
  int verbosity = 0;
};

bool parse_bool(const std::string& flag, const std::string& v) {
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  throw gpushare::InvalidArgument("option " + flag + ": expected true or false, got '" + v + "'");
}

// "15s", "1.5s", "500ms", "2m" or plain seconds.
double parse_seconds(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const double n = std::strtod(v.c_str(), &end);
  const std::string unit = end ? end : "";
  double s = -1;
  if (unit.empty() || unit == "s") s = n;
  else if (unit == "ms") s = n / 1000;
  else if (unit == "m") s = n * 60;
  if (end == v.c_str() || !(s > 0)) throw gpushare::InvalidArgument("option " + flag + ": expected a duration like 15s, got '" + v + "'");
  return s;
}

Options parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string*> text = {
      {"--dialect", &o.dialect},   {"--policy", &o.policy},         {"--address", &o.address},
      {"--url-prefix", &o.prefix}, {"--state", &o.state},           {"--nodes", &o.nodes},
      {"--pods", &o.pods},         {"--binds", &o.binds},           {"--kubeconfig", &o.kubeconfig},
      {"--context", &o.context},   {"--binder", &o.binder},         {"--decide-at", &o.decide_at},         {"--lease-namespace", &o.lease_namespace},
      {"--lease-name", &o.lease_name}, {"--topology", &o.topology}};
  std::map<std::string, double*> durations = {
      {"--lease-duration", &o.lease_duration}, {"--renew-deadline", &o.renew_deadline}, {"--retry-period", &o.retry_period}};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
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
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); a.rfind("-", 0) == 0 && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    if (a == "--in-cluster" || a == "--leader-elect") {  // booleans: bare, or =true/=false
      const bool b = inline_value ? parse_bool(a, *inline_value) : true;
      if (a == "--in-cluster") o.in_cluster = b;
      else o.leader_elect = b;
      continue;
    }
    if (!inline_value && i + 1 >= argc) throw gpushare::InvalidArgument("option " + a + " needs a value (see --help)");
    const std::string v = inline_value ? *inline_value : argv[++i];
    if (auto it = text.find(a); it != text.end()) {
      *it->second = v;
    } else if (auto d = durations.find(a); d != durations.end()) {
      *d->second = parse_seconds(a, v);
    } else if (a == "--port" || a == "--read-timeout" || a == "-v" || a == "--v") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      const bool is_v = a == "-v" || a == "--v";
      if (v.empty() || *end || n < (is_v ? 0 : 1) || n > 65535)
        throw gpushare::InvalidArgument("option " + a + ": expected a " + (is_v ? "number >= 0" : "positive number") + ", got '" + v + "'");
      (a == "--port" ? o.port : a == "--read-timeout" ? o.read_timeout : o.verbosity) = static_cast<int>(n);
    } else {
      throw gpushare::InvalidArgument("unknown option " + a + " (see --help)");
    }
  }
  if (o.prefix.empty() || o.prefix.front() != '/') o.prefix = "/" + o.prefix;
  while (o.prefix.size() > 1 && o.prefix.back() == '/') o.prefix.pop_back();
  if (o.binds.empty()) o.binds = o.state.empty() ? "binds.jsonl" : o.state + ".binds";
  if (o.in_cluster < 0) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    o.in_cluster = h && *h && o.kubeconfig.empty() && o.nodes.empty() && o.pods.empty();
  }
  if (o.in_cluster && !o.kubeconfig.empty()) throw gpushare::InvalidArgument("--in-cluster and --kubeconfig exclude each other");
  const bool api = o.in_cluster || !o.kubeconfig.empty();
  if (o.binder.empty()) o.binder = api ? "api" : "journal";
  if (o.binder != "api" && o.binder != "journal") throw gpushare::InvalidArgument("option --binder: expected api or journal, got '" + o.binder + "'");
  if (o.decide_at != "bind" && o.decide_at != "filter")
    throw gpushare::InvalidArgument("option --decide-at: expected bind or filter, got '" + o.decide_at + "'");
  if (o.binder == "api" && !api) throw gpushare::InvalidArgument("--binder api needs an API server (--kubeconfig or --in-cluster)");
  if (api && (!o.nodes.empty() || !o.pods.empty()))
    throw gpushare::InvalidArgument("--nodes/--pods are for offline use; with an API server nodes and pods are read from it");
  if (o.leader_elect && !api) throw gpushare::InvalidArgument("--leader-elect needs an API server (--kubeconfig or --in-cluster)");
  if (o.leader_elect && !(o.lease_duration > o.renew_deadline && o.renew_deadline > o.retry_period))
    throw gpushare::InvalidArgument("--lease-duration must exceed --renew-deadline, which must exceed --retry-period");
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

void say(const std::string& s) {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  std::cerr << "gpushare-extender: " << s << "\n";
}

// Offline start: nodes from --nodes, the journal, allocations from --pods.
void start_offline(const Options& opt, gpushare::k8s::ExtenderService& svc) {
  using namespace gpushare;
  nlohmann::json node_list;
  if (!opt.nodes.empty()) {
    node_list = read_list(opt.nodes, "--nodes", "NodeList");
    for (const auto& n : node_list["items"]) svc.upsert_node(n);
  }
  const auto report = svc.recover();
  say("dialect " + opt.dialect + ", policy " + opt.policy + ", recovered " + std::to_string(report.applied) + " operations from the journal");
  for (const auto& p : report.problems) std::cerr << "  could not re-apply: " << p << "\n";
  if (!opt.pods.empty()) {
    if (opt.nodes.empty()) throw InvalidArgument("--pods needs --nodes (the pods' annotations point at those nodes)");
    const auto rec = k8s::recover_cluster(node_list, read_list(opt.pods, "--pods", "PodList"), k8s::parse_dialect(opt.dialect));
    const auto problems = svc.adopt(rec.placements);
    say(std::to_string(rec.placements.size() - problems.size()) + " allocations recovered from pod annotations");
    for (const auto& u : rec.unplaced) std::cerr << "  not recovered: " << u.pod << ": " << u.reason << "\n";
    for (const auto& p : problems) std::cerr << "  not adopted: " << p << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gpushare;
  Options opt;
  std::unique_ptr<k8s::ExtenderService> svc;
  std::atomic<bool> serving{false};
#ifdef GPUSHARE_EXTENDER_KUBE
  std::shared_ptr<k8s::ApiClient> api;
  std::unique_ptr<k8s::ClusterSync> sync;
#endif
  try {
    opt = parse(argc, argv);
    const bool use_api = opt.in_cluster || !opt.kubeconfig.empty();
    std::shared_ptr<k8s::Binder> binder;
#ifdef GPUSHARE_EXTENDER_KUBE
    if (use_api) {
      api = std::make_shared<k8s::ApiClient>(opt.in_cluster ? k8s::in_cluster_config() : k8s::load_kubeconfig(opt.kubeconfig, opt.context));
      if (opt.binder == "api") binder = std::make_shared<k8s::ApiBinder>(api, k8s::parse_dialect(opt.dialect));
    }
#else
    if (use_api) throw InvalidArgument("this gpushare-extender was built without the Kubernetes API client (gpushare::kube)");
#endif
    if (!binder) binder = std::make_shared<k8s::JournalBinder>(opt.binds);
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
    svc = std::make_unique<k8s::ExtenderService>(k8s::make_extender_dialect(opt.dialect), make_policy(opt.policy, popt), binder, state);
    svc->set_decide_at_filter(opt.decide_at == "filter");
    if (!use_api) {
      start_offline(opt, *svc);
      serving = true;
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
  k8s::ExtenderMetrics metrics;
  k8s::HttpOptions http;
  http.prefix = opt.prefix;
  http.verbosity = opt.verbosity;
  http.serving = [&serving] { return serving.load(); };
  k8s::install_extender_routes(server, *svc, metrics, http);

#ifdef GPUSHARE_EXTENDER_KUBE
  std::thread control;
  if (api) {
    // Serve only once the state was rebuilt from the API server (and, with --leader-elect, while leading).
    auto become_active = [&] {
      sync = std::make_unique<k8s::ClusterSync>(*api, *svc, [](const std::string& s) { say(s); });
      sync->start();
      while (!sync->wait_synced(std::chrono::seconds(10))) say("waiting for the node and pod lists from " + api->server());
      serving = true;
      say("serving (dialect " + opt.dialect + ", policy " + opt.policy + ", binder " + opt.binder + ")");
    };
    control = std::thread([&, become_active] {
      if (!opt.leader_elect) return become_active();
      k8s::LeaseConfig lc;
      lc.namespace_name = opt.lease_namespace;
      lc.name = opt.lease_name;
      char host[256] = {};
      gethostname(host, sizeof host - 1);
      lc.identity = std::string(host) + "_" + std::to_string(getpid());
      auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); };
      lc.lease_duration = ms(opt.lease_duration);
      lc.renew_deadline = ms(opt.renew_deadline);
      lc.retry_period = ms(opt.retry_period);
      k8s::LeaderElector le(*api, lc);
      say("candidate " + lc.identity + " for lease " + lc.namespace_name + "/" + lc.name);
      le.run(become_active, [&] {
        // As kube-scheduler does: a leader that lost its lease stops at once, so two never serve.
        serving = false;
        say("exiting: leadership lost");
        std::_Exit(1);
      }, [](const std::string& s) { say(s); });
    });
  }
#endif
#ifdef GPUSHARE_EXTENDER_KUBE
  if (control.joinable()) control.detach();  // runs until the process ends
#endif
  say("listening on " + opt.address + ":" + std::to_string(opt.port) + opt.prefix);
  if (!server.listen(opt.address.c_str(), opt.port)) {
    std::cerr << "gpushare-extender: cannot listen on " << opt.address << ":" << opt.port << "\n";
    std::_Exit(1);
  }
  return 0;
}
