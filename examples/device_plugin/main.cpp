// gpushare-device-plugin: the node half of gpushare.  Serves the kubelet device plugin API
// v1beta1 on unix sockets in the device-plugin directory, registers with kubelet.sock (again
// whenever the kubelet recreates it), advertises the node's GPUs and answers Allocate with the GPU
// the scheduler extender chose (aliyun dialect) or the GPUs the kubelet chose (nvidia dialect).
// The decisions live in include/gpushare/node/*.hpp; this file is the gRPC and process glue.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/grpcpp.h>

#include "deviceplugin_v1beta1.grpc.pb.h"
#include "gpushare/io/nvidia_smi_topo.hpp"
#include "gpushare/k8s/kubeconfig.hpp"
#include "gpushare/node/aliyun_match.hpp"
#include "gpushare/node/devices.hpp"
#include "gpushare/node/gpus.hpp"
#include "gpushare/node/nvml.hpp"
#include "kubelet_io.hpp"

namespace gn = gpushare::node;
using namespace std::chrono_literals;

namespace {

const char* usage =
    "usage: gpushare-device-plugin --dialect aliyun|nvidia [options]\n"
    "  --node NAME                  this node (default: $NODE_NAME; else the node of this pod, $HOSTNAME in\n"
    "                               $POD_NAMESPACE or the ServiceAccount's namespace, read from the API server)\n"
    "  --device-plugin-dir DIR      kubelet device-plugin directory (default /var/lib/kubelet/device-plugins)\n"
    "  --pod-resources-socket PATH  kubelet pod-resources socket (default /var/lib/kubelet/pod-resources/kubelet.sock; '' = none)\n"
    "  --aliyun-mib                 aliyun.com/gpu-mem counts MiB (default GiB)\n"
    "  --preferred besteffort|topology-set   nvidia GetPreferredAllocation policy (default besteffort = the nvidia mode)\n"
    "  --kubeconfig FILE            API server access (default: in-cluster service account)\n"
    "  --pods-file FILE             read pods from a JSON file instead of the API server (tests, offline)\n"
    "  --pod-cache-ms N             reuse a pod listing this long (default 1000)\n"
    "  --fake-gpus FILE             GPUs from a JSON file, re-read when it changes or on SIGHUP (tests)\n"
    "  --print-gpus                 print the discovered GPUs as JSON and exit\n";

struct Options {
  std::string dialect, node, dir = "/var/lib/kubelet/device-plugins", pod_resources = "/var/lib/kubelet/pod-resources/kubelet.sock";
  bool mib = false, print_gpus = false;
  gn::PreferPolicy prefer = gn::PreferPolicy::BestEffort;
  std::string kubeconfig, pods_file, fake_gpus;
  long cache_ms = 1000;
};

[[noreturn]] void die(const std::string& m) {
  std::cerr << "gpushare-device-plugin: " << m << "\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* n = std::getenv("NODE_NAME")) o.node = n;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") { std::cout << usage; std::exit(0); }
    else if (a == "--dialect") o.dialect = val();
    else if (a == "--node") o.node = val();
    else if (a == "--device-plugin-dir") o.dir = val();
    else if (a == "--pod-resources-socket") o.pod_resources = val();
    else if (a == "--aliyun-mib") o.mib = true;
    else if (a == "--print-gpus") o.print_gpus = true;
    else if (a == "--kubeconfig") o.kubeconfig = val();
    else if (a == "--pods-file") o.pods_file = val();
    else if (a == "--fake-gpus") o.fake_gpus = val();
    else if (a == "--pod-cache-ms") {
      const std::string v = val();
      char* end = nullptr;
      o.cache_ms = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || o.cache_ms < 0 || o.cache_ms > 600000) die("--pod-cache-ms: '" + v + "' is not 0..600000");
    } else if (a == "--preferred") {
      const std::string v = val();
      if (v == "besteffort") o.prefer = gn::PreferPolicy::BestEffort;
      else if (v == "topology-set") o.prefer = gn::PreferPolicy::TopologySet;
      else die("--preferred: '" + v + "' is not besteffort or topology-set");
    } else die("unknown option " + a + "\n" + usage);
  }
  if (o.print_gpus) return o;
  if (o.dialect != "aliyun" && o.dialect != "nvidia") die("--dialect must be aliyun or nvidia (got '" + o.dialect + "')");
  return o;
}

std::string run(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) { status = -1; return out; }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = ::pclose(p);
  return out;
}

gn::GpuInventory read_fake(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw gpushare::NotFound("fake-gpus " + path + ": cannot be read");
  nlohmann::json j;
  try { j = nlohmann::json::parse(f); } catch (const std::exception& e) { throw gpushare::ParseError("fake-gpus " + path + ": " + e.what()); }
  return gn::inventory_from_json(j, "fake-gpus " + path);
}

// NVML first, then nvidia-smi; nullopt when neither is there.
std::optional<gn::GpuInventory> discover(std::unique_ptr<gn::Nvml>& nvml) {
  nvml = gn::Nvml::open();
  if (nvml) return nvml->discover();
  int st = 0;
  const std::string q = run("nvidia-smi --query-gpu=index,uuid,memory.total,name --format=csv,noheader,nounits 2>/dev/null", st);
  if (st != 0) return std::nullopt;
  gn::GpuInventory inv;
  inv.source = "nvidia-smi";
  inv.gpus = gn::parse_smi_query_csv(q);
  const std::string topo = run("nvidia-smi topo -m 2>/dev/null", st);
  inv.topology = st == 0 ? gpushare::parse_nvidia_smi_topo(topo).to_topology() : gpushare::Topology(static_cast<int>(inv.gpus.size()));
  if (inv.topology.size() != static_cast<int>(inv.gpus.size())) inv.topology = gpushare::Topology(static_cast<int>(inv.gpus.size()));
  gn::validate_inventory(inv, "nvidia-smi");
  return inv;
}

// The GPUs and their health, shared by every stream; `version` grows on each change.
class GpuState {
 public:
  explicit GpuState(gn::GpuInventory inv) : inv_(std::move(inv)) {}
  gn::GpuInventory get() const { std::lock_guard<std::mutex> l(mu_); return inv_; }
  std::uint64_t version() const { std::lock_guard<std::mutex> l(mu_); return version_; }
  void set(gn::GpuInventory inv) {
    std::lock_guard<std::mutex> l(mu_);
    inv_ = std::move(inv);
    ++version_;
    cv_.notify_all();
  }
  void mark_unhealthy(int gpu) {
    std::lock_guard<std::mutex> l(mu_);
    if (gpu < 0 || gpu >= static_cast<int>(inv_.gpus.size()) || !inv_.gpus[static_cast<std::size_t>(gpu)].healthy) return;
    inv_.gpus[static_cast<std::size_t>(gpu)].healthy = false;
    ++version_;
    cv_.notify_all();
  }
  // Waits up to `d` for a version other than `seen`, or a wake-up; returns the current version.
  std::uint64_t wait(std::uint64_t seen, std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, d, [&] { return version_ != seen || wake_; });
    return version_;
  }
  void wake_all() { std::lock_guard<std::mutex> l(mu_); wake_ = true; cv_.notify_all(); }
  void unwake() { std::lock_guard<std::mutex> l(mu_); wake_ = false; }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  gn::GpuInventory inv_;
  std::uint64_t version_ = 1;
  bool wake_ = false;
};

void set_device(v1beta1::Device* pd, const std::string& id, bool healthy, int numa) {
  pd->set_id(id);
  pd->set_health(healthy ? "Healthy" : "Unhealthy");
  if (numa >= 0) pd->mutable_topology()->add_nodes()->set_id(numa);
}

// The kubelet's device manager dials a plugin with grpc-go's default receive limit, 4 MiB per
// message, so a ListAndWatch list above it never reaches the kubelet.
constexpr std::size_t kKubeletMaxMessage = std::size_t(4) << 20;

// Throws InvalidArgument when a resource's ListAndWatch message would exceed the kubelet's limit,
// counted with every device Unhealthy (the longest health string: health changes are not re-checked).
// Counted device by device, without building the list.
void check_list_size(const gn::GpuInventory& inv, const std::vector<gn::Resource>& resources, bool mib) {
  for (gn::Resource r : resources) {
    std::size_t bytes = 0, n = 0;
    v1beta1::Device d;
    for (const auto& g : inv.gpus) {
      const std::int64_t units = r == gn::Resource::AliyunMem ? gn::gpu_mem_units(g, mib) : 1;
      for (std::int64_t k = 0; k < units; ++k, ++n) {
        d.Clear();
        set_device(&d, r == gn::Resource::AliyunMem ? gn::mem_device_id(g.uuid, k) : g.uuid, false, g.numa);
        const std::size_t b = d.ByteSizeLong();
        bytes += 1 + google::protobuf::io::CodedOutputStream::VarintSize64(b) + b;
      }
    }
    if (bytes > kKubeletMaxMessage)
      throw gpushare::InvalidArgument(std::string(gn::resource_name(r)) + ": " + std::to_string(n) + " devices make a ListAndWatch message of " +
                                      std::to_string(bytes) + " bytes, above the kubelet's 4 MiB gRPC message limit (the kubelet could never read the list)" +
                                      (mib && r == gn::Resource::AliyunMem ? "; --aliyun-mib advertises one device per MiB: use GiB units (drop --aliyun-mib, here and in the extender)" : ""));
  }
}

grpc::Status status_of(const std::exception& e) {
  if (dynamic_cast<const gn::Unavailable*>(&e)) return {grpc::StatusCode::UNAVAILABLE, e.what()};
  if (auto* g = dynamic_cast<const gpushare::Error*>(&e)) {
    switch (g->kind()) {
      case gpushare::ErrorKind::invalid_argument:
      case gpushare::ErrorKind::parse: return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
      case gpushare::ErrorKind::not_found: return {grpc::StatusCode::NOT_FOUND, e.what()};
      case gpushare::ErrorKind::conflict: return {grpc::StatusCode::FAILED_PRECONDITION, e.what()};
      case gpushare::ErrorKind::capacity: return {grpc::StatusCode::RESOURCE_EXHAUSTED, e.what()};
    }
  }
  return {grpc::StatusCode::INTERNAL, e.what()};
}

std::string ids_text(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  std::string s;
  for (int i = 0; i < ids.size() && i < 4; ++i) s += (i ? "," : "") + ids[i];
  if (ids.size() > 4) s += ",... (" + std::to_string(ids.size()) + " devices)";
  return s;
}

class PluginService final : public v1beta1::DevicePlugin::Service {
 public:
  PluginService(gn::Resource r, const Options& o, GpuState& gpus, gn::AliyunMatcher* matcher, std::atomic<bool>& stopping)
      : r_(r), o_(o), gpus_(gpus), matcher_(matcher), stopping_(stopping) {}

  grpc::Status GetDevicePluginOptions(grpc::ServerContext*, const v1beta1::Empty*, v1beta1::DevicePluginOptions* out) override {
    out->set_pre_start_required(false);
    out->set_get_preferred_allocation_available(r_ == gn::Resource::NvidiaGpu);
    return grpc::Status::OK;
  }

  grpc::Status ListAndWatch(grpc::ServerContext* ctx, const v1beta1::Empty*, grpc::ServerWriter<v1beta1::ListAndWatchResponse>* w) override {
    std::uint64_t sent = 0;
    while (!stopping_.load() && !ctx->IsCancelled()) {
      const std::uint64_t v = gpus_.version();
      if (v != sent) {
        v1beta1::ListAndWatchResponse resp;
        for (const auto& d : gn::advertised_devices(gpus_.get(), r_, o_.mib)) set_device(resp.add_devices(), d.id, d.healthy, d.numa);
        if (!w->Write(resp)) break;
        sent = v;
      }
      gpus_.wait(sent, 500ms);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetPreferredAllocation(grpc::ServerContext*, const v1beta1::PreferredAllocationRequest* req,
                                      v1beta1::PreferredAllocationResponse* out) override {
    if (r_ != gn::Resource::NvidiaGpu)
      return {grpc::StatusCode::UNIMPLEMENTED, std::string("GetPreferredAllocation is not offered for ") + gn::resource_name(r_)};
    try {
      const gn::GpuInventory inv = gpus_.get();
      for (int i = 0; i < req->container_requests_size(); ++i) {
        const auto& c = req->container_requests(i);
        std::vector<std::string> avail(c.available_deviceids().begin(), c.available_deviceids().end());
        std::vector<std::string> must(c.must_include_deviceids().begin(), c.must_include_deviceids().end());
        auto* r = out->add_container_responses();
        for (const auto& id : gn::nvidia_preferred(inv, avail, must, c.allocation_size(), o_.prefer)) r->add_deviceids(id);
      }
    } catch (const std::exception& e) {
      out->Clear();
      log("GetPreferredAllocation refused: " + std::string(e.what()));
      return {status_of(e).error_code(), "node " + o_.node + ": GetPreferredAllocation: " + e.what()};
    }
    return grpc::Status::OK;
  }

  grpc::Status Allocate(grpc::ServerContext*, const v1beta1::AllocateRequest* req, v1beta1::AllocateResponse* out) override {
    try {
      const gn::GpuInventory inv = gpus_.get();
      std::vector<std::map<std::string, std::string>> envs;
      if (r_ == gn::Resource::AliyunCount) {
        throw gpushare::InvalidArgument("aliyun.com/gpu-count is advertised as capacity only; request aliyun.com/gpu-mem");
      } else if (r_ == gn::Resource::NvidiaGpu) {
        if (req->container_requests_size() == 0) throw gpushare::InvalidArgument("AllocateRequest: no container_requests");
        for (const auto& c : req->container_requests())
          envs.push_back(gn::nvidia_allocate(inv, {c.devices_ids().begin(), c.devices_ids().end()}));
      } else {
        std::vector<std::vector<std::string>> reqs;
        for (const auto& c : req->container_requests()) reqs.emplace_back(c.devices_ids().begin(), c.devices_ids().end());
        envs = matcher_->allocate(inv, reqs);
      }
      for (std::size_t i = 0; i < envs.size(); ++i) {
        auto* cr = out->add_container_responses();
        for (const auto& kv : envs[i]) (*cr->mutable_envs())[kv.first] = kv.second;
        log(std::string("Allocate ") + gn::resource_name(r_) + " [" + ids_text(req->container_requests(static_cast<int>(i)).devices_ids()) +
            "] -> NVIDIA_VISIBLE_DEVICES=" + envs[i]["NVIDIA_VISIBLE_DEVICES"] +
            (envs[i].count("ALIYUN_COM_GPU_MEM_IDX") ? " ALIYUN_COM_GPU_MEM_IDX=" + envs[i]["ALIYUN_COM_GPU_MEM_IDX"] : ""));
      }
    } catch (const std::exception& e) {
      out->Clear();
      log(std::string("Allocate ") + gn::resource_name(r_) + " refused: " + e.what());
      const grpc::Status s = status_of(e);
      std::string msg = e.what();
      if (msg.rfind("node ", 0) != 0) msg = "node " + o_.node + ": " + msg;
      return {s.error_code(), msg};
    }
    return grpc::Status::OK;
  }

  grpc::Status PreStartContainer(grpc::ServerContext*, const v1beta1::PreStartContainerRequest*, v1beta1::PreStartContainerResponse*) override {
    return grpc::Status::OK;
  }

  static void log(const std::string& m) { std::cerr << "gpushare-device-plugin: " << m << std::endl; }

 private:
  gn::Resource r_;
  const Options& o_;
  GpuState& gpus_;
  gn::AliyunMatcher* matcher_;
  std::atomic<bool>& stopping_;
};

struct Endpoint {
  gn::Resource r;
  std::string path;
  std::unique_ptr<PluginService> svc;
  std::unique_ptr<grpc::Server> server;
};

std::atomic<bool> g_quit{false}, g_hup{false};

ino_t inode_of(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}
std::int64_t mtime_of(const std::string& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return -1;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec + static_cast<std::int64_t>(st.st_size);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  std::unique_ptr<gn::Nvml> nvml;
  gn::GpuInventory inv;
  try {
    if (!o.fake_gpus.empty()) {
      inv = read_fake(o.fake_gpus);
    } else if (auto d = discover(nvml)) {
      inv = *d;
    } else {
      die("no GPUs found: libnvidia-ml.so.1 could not be loaded and nvidia-smi failed (use --fake-gpus FILE to test)");
    }
  } catch (const std::exception& e) {
    die(e.what());
  }
  if (o.print_gpus) {
    std::cout << gn::inventory_to_json(inv).dump(1) << "\n";
    return 0;
  }
  if (o.node.empty() && o.dialect == "nvidia") {
    const char* n = std::getenv("NODE_NAME");
    char host[256] = {0};
    if (!n && ::gethostname(host, sizeof host - 1) == 0) n = host;
    o.node = n ? n : "unknown";
  }
  PluginService::log("node " + (o.node.empty() ? std::string("?") : o.node) + ": " + std::to_string(inv.gpus.size()) + " GPUs from " + inv.source + ", dialect " + o.dialect);

  std::unique_ptr<gn::PodSource> pods;
  std::unique_ptr<gsdp::PodResourcesView> kubelet_view;
  std::unique_ptr<gn::AliyunMatcher> matcher;
  std::vector<gn::Resource> resources;
  if (o.dialect == "aliyun") {
    resources = {gn::Resource::AliyunMem, gn::Resource::AliyunCount};
    try {
      if (!o.pods_file.empty()) pods = std::make_unique<gsdp::FilePods>(o.pods_file);
      else if (!o.kubeconfig.empty()) pods = std::make_unique<gsdp::ApiPods>(gpushare::k8s::load_kubeconfig(o.kubeconfig));
      else pods = std::make_unique<gsdp::ApiPods>(gpushare::k8s::in_cluster_config());
      if (o.node.empty()) {  // e.g. gpu-operator's DaemonSet, whose env cannot carry a fieldRef
        auto* api = dynamic_cast<gsdp::ApiPods*>(pods.get());
        const char* host = std::getenv("HOSTNAME");
        std::string ns;
        if (const char* pn = std::getenv("POD_NAMESPACE")) {
          ns = pn;
        } else {
          std::ifstream nsf("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
          std::getline(nsf, ns);
        }
        if (!api || !host || ns.empty()) die("--node (or $NODE_NAME) is required outside a pod");
        o.node = api->node_of_pod(ns, host);
        PluginService::log("node " + o.node + " (from pod " + ns + "/" + host + ")");
      }
    } catch (const std::exception& e) {
      die(std::string("API server access: ") + e.what());
    }
    kubelet_view = std::make_unique<gsdp::PodResourcesView>(o.pod_resources);
    if (auto held = kubelet_view->list()) {
      int n = 0;
      for (const auto& p : *held)
        for (const auto& c : p.containers)
          n += c.second.count(gn::resource_name(gn::Resource::AliyunMem)) ? 1 : 0;
      PluginService::log("pod-resources: the kubelet reports " + std::to_string(n) + " containers holding aliyun.com/gpu-mem devices");
    } else {
      PluginService::log("pod-resources socket '" + o.pod_resources + "' not answering: same-size pods pending at once are matched oldest bind first");
    }
    gn::AliyunMatchOptions mo;
    mo.mib_unit = o.mib;
    mo.cache_ms = o.cache_ms;
    matcher = std::make_unique<gn::AliyunMatcher>(o.node, *pods, kubelet_view.get(), mo);
  } else {
    resources = {gn::Resource::NvidiaGpu};
  }

  try {
    check_list_size(inv, resources, o.mib);
  } catch (const std::exception& e) {
    die(e.what());
  }
  GpuState gpus(inv);
  std::atomic<bool> stopping{false};
  std::thread xid_thread;
  if (nvml)
    xid_thread = std::thread([&] {
      bool failing = false;  // log a run of failed waits once
      nvml->watch_xid(
          g_quit,
          [&](int g, unsigned long long x) {
            failing = false;
            PluginService::log("GPU " + std::to_string(g) + ": XID " + std::to_string(x) + ", marked unhealthy");
            gpus.mark_unhealthy(g);
          },
          [&](int rc) {
            if (!failing) PluginService::log("NVML event wait failed (nvmlEventSetWait_v2 returned " + std::to_string(rc) + "): every GPU marked unhealthy");
            failing = true;
            for (int g = 0; g < static_cast<int>(inv.gpus.size()); ++g) gpus.mark_unhealthy(g);
          });
    });

  struct sigaction sa {};
  sa.sa_handler = [](int s) { (s == SIGHUP ? g_hup : g_quit).store(true); };
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);

  const std::string kubelet_sock = o.dir + "/kubelet.sock";
  std::vector<Endpoint> eps;
  auto stop_all = [&] {
    stopping.store(true);
    gpus.wake_all();
    for (auto& e : eps) {
      e.server->Shutdown(std::chrono::system_clock::now() + 2s);
      ::unlink(e.path.c_str());
    }
    eps.clear();
    stopping.store(false);
    gpus.unwake();
  };
  auto start_all = [&]() -> bool {
    for (gn::Resource r : resources) {
      Endpoint e{r, o.dir + "/" + gn::socket_name(r), nullptr, nullptr};
      ::unlink(e.path.c_str());
      e.svc = std::make_unique<PluginService>(r, o, gpus, matcher.get(), stopping);
      grpc::ServerBuilder b;
      b.AddListeningPort("unix://" + e.path, grpc::InsecureServerCredentials());
      b.RegisterService(e.svc.get());
      e.server = b.BuildAndStart();
      if (!e.server) {
        PluginService::log("cannot serve on " + e.path);
        return false;
      }
      eps.push_back(std::move(e));
    }
    auto stub = v1beta1::Registration::NewStub(grpc::CreateChannel("unix://" + kubelet_sock, grpc::InsecureChannelCredentials()));
    for (const auto& e : eps) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 5s);
      v1beta1::RegisterRequest req;
      req.set_version("v1beta1");
      req.set_endpoint(gn::socket_name(e.r));
      req.set_resource_name(gn::resource_name(e.r));
      req.mutable_options()->set_get_preferred_allocation_available(e.r == gn::Resource::NvidiaGpu);
      v1beta1::Empty resp;
      const grpc::Status s = stub->Register(&ctx, req, &resp);
      if (!s.ok()) {
        PluginService::log(std::string("Register ") + gn::resource_name(e.r) + " with " + kubelet_sock + " failed: " + s.error_message());
        return false;
      }
      PluginService::log(std::string("registered ") + gn::resource_name(e.r) + " at " + e.path);
    }
    return true;
  };

  ino_t registered_inode = 0;
  std::int64_t fake_mtime = o.fake_gpus.empty() ? 0 : mtime_of(o.fake_gpus);
  auto next_try = std::chrono::steady_clock::now();
  while (!g_quit.load()) {
    // Fake-GPU file changed or SIGHUP: re-read; a bad file changes nothing.
    if (!o.fake_gpus.empty() && (g_hup.exchange(false) || mtime_of(o.fake_gpus) != fake_mtime)) {
      fake_mtime = mtime_of(o.fake_gpus);
      try {
        gn::GpuInventory next = read_fake(o.fake_gpus);
        check_list_size(next, resources, o.mib);
        gpus.set(std::move(next));
        PluginService::log("re-read " + o.fake_gpus);
      } catch (const std::exception& e) {
        PluginService::log(std::string("kept the previous GPUs: ") + e.what());
      }
    }
    // kubelet.sock (re)created, or one of our sockets removed (the kubelet clears the directory
    // when it starts): serve again and register again.
    const ino_t ino = inode_of(kubelet_sock);
    bool lost = false;
    for (const auto& e : eps) lost = lost || inode_of(e.path) == 0;
    if (ino != 0 && (ino != registered_inode || lost) && std::chrono::steady_clock::now() >= next_try) {
      if (registered_inode != 0) PluginService::log("kubelet socket recreated or plugin socket removed: registering again");
      stop_all();
      if (start_all()) {
        registered_inode = ino;
      } else {
        stop_all();
        registered_inode = 0;
        next_try = std::chrono::steady_clock::now() + 2s;
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  PluginService::log("stopping");
  stop_all();
  if (xid_thread.joinable()) xid_thread.join();
  return 0;
}
