// gpushare/node/aliyun_match.hpp — which pending pod an aliyun.com/gpu-mem Allocate call is for.
//
// The kubelet's Allocate names only fake memory-unit devices; the GPU was chosen by the extender
// and written on the pod (ALIYUN_COM_GPU_MEM_IDX ...; k8s/annotations.hpp).  The kubelet calls
// Allocate once per container that asks for gpu-mem (init containers first, then app
// containers), pods one at a time.  A call of U units is matched to a container slot:
//   1. a pod whose earlier GPU containers this plugin already served (the kubelet finishes a pod
//      before the next) and whose next GPU container asks for U;
//   2. otherwise a pod on this node, assumed and not assigned (ALIYUN_COM_GPU_MEM_ASSIGNED=false),
//      not served before, whose first GPU container asks for U.  When several match and the
//      kubelet's pod-resources view is available, only pods the kubelet already knows and whose
//      container holds no gpu-mem device yet remain: the kubelet adds a pod to its pod manager just
//      before admitting it, so a same-size pod bound earlier but not yet seen by the kubelet is not
//      the one being admitted (Aliyun's device plugin takes the oldest and gives the container the
//      other pod's GPU).  From a cached listing this check applies to a lone candidate too, and
//      when the kubelet knows none of them the pods are listed again (the pod being admitted may
//      be younger than the listing).  Then the oldest ALIYUN_COM_GPU_MEM_ASSUME_TIME wins.
// A served pod is never matched again, even before the API server shows ASSIGNED=true.  After a
// restart of the plugin, a pod part-way through its GPU containers is recognised from the
// kubelet's view (its first containers hold gpu-mem devices) and continued without a new patch.  No
// match is an error naming the node, the size and every candidate seen.  On a match the pod is
// patched ASSIGNED=true + ASSIGN_TIME (first container only); a failed patch undoes the match.
//
// @code
//   gpushare::node::AliyunMatcher m("node-1", pods, &kubelet, {/*mib_unit=*/false});
//   auto envs = m.allocate(inv, {{"GPU-a-_-0", "GPU-a-_-1"}});   // one env map per container
//   envs[0]["NVIDIA_VISIBLE_DEVICES"];                          // UUID of the pod's GPU
// @endcode
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/k8s/annotations.hpp"
#include "gpushare/k8s/pod.hpp"
#include "gpushare/node/devices.hpp"

namespace gpushare {
namespace node {

inline const char* kAliyunAssignTime = "ALIYUN_COM_GPU_MEM_ASSIGN_TIME";
inline const char* kAliyunContainer = "ALIYUN_COM_GPU_MEM_CONTAINER";

/// @brief Where pods come from: the API server (list with fieldSelector spec.nodeName=NODE and
/// merge-patch of annotations) or a stand-in.  Errors are thrown as gpushare::Error.
class PodSource {
 public:
  virtual ~PodSource() = default;
  /// @brief The pods bound to `node` (a PodList object or an array of pods).
  virtual nlohmann::json list_pods(const std::string& node) = 0;
  /// @brief Merge-patches metadata.annotations of one pod.
  virtual void patch_annotations(const std::string& ns, const std::string& name,
                                 const std::map<std::string, std::string>& annotations) = 0;
};

/// @brief One pod as the kubelet's pod-resources List shows it: devices per container and resource.
struct KubeletPod {
  std::string ns, name;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> containers;
};

/// @brief The kubelet's pod-resources view; nullopt when the socket cannot be reached.
class KubeletView {
 public:
  virtual ~KubeletView() = default;
  virtual std::optional<std::vector<KubeletPod>> list() = 0;
};

/// @brief Options of the matcher.
struct AliyunMatchOptions {
  bool mib_unit = false;           ///< aliyun.com/gpu-mem counts MiB instead of GiB
  std::int64_t cache_ms = 1000;    ///< a pod listing younger than this is reused
};

/// @brief Matches Allocate calls to pending pods (see the file comment).  Thread-safe.
class AliyunMatcher {
 public:
  using Clock = std::function<std::int64_t()>;  ///< nanoseconds since the epoch

  AliyunMatcher(std::string node, PodSource& pods, KubeletView* kubelet, AliyunMatchOptions o = {}, Clock clock = {})
      : node_(std::move(node)), pods_(pods), kubelet_(kubelet), opt_(o), clock_(std::move(clock)) {
    if (!clock_)
      clock_ = [] { return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count()); };
  }

  /// @brief Allocate for aliyun.com/gpu-mem: one env map per container request, in order.
  /// All-or-nothing: on any error nothing is recorded or patched.  Throws InvalidArgument
  /// (malformed request), NotFound (no pod matches), ConflictError (the pod's GPU is unknown or
  /// unhealthy), Unavailable (the API server could not be read or patched).
  std::vector<std::map<std::string, std::string>> allocate(const GpuInventory& inv,
                                                           const std::vector<std::vector<std::string>>& requests) {
    if (requests.empty()) throw InvalidArgument("AllocateRequest: no container_requests");
    std::vector<std::int64_t> units;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const std::string w = "container_requests[" + std::to_string(i) + "].devices_ids";
      if (requests[i].empty()) throw InvalidArgument(w + ": empty");
      std::set<std::string> seen;
      for (const auto& id : requests[i]) {
        try {
          gpu_of_mem_device(inv, id, opt_.mib_unit);
        } catch (const InvalidArgument& e) {
          throw InvalidArgument(w + ": " + e.what());
        }
        if (!seen.insert(id).second) throw InvalidArgument(w + ": device ID '" + id + "' listed twice");
      }
      units.push_back(static_cast<std::int64_t>(requests[i].size()));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::map<std::string, std::string>> out;
    std::map<std::string, Progress> progress;  // committed only when every request matched
    std::vector<const Candidate*> newly;       // pods to patch ASSIGNED=true
    const int listed_before = listings_;
    std::vector<Candidate> cands = candidates(false);
    bool cached = listings_ == listed_before;  // a pod bound since may be the one being admitted
    auto attempt = [&]() -> std::optional<std::size_t> {  // index of the first unmatched request
      progress = progress_;
      newly.clear();
      out.clear();
      for (std::size_t i = 0; i < units.size(); ++i) {
        const Candidate* c = pick(cands, progress, units[i], cached);
        if (!c) return i;
        out.push_back(serve(inv, *c, progress, newly));
      }
      return std::nullopt;
    };
    auto failed = attempt();
    if (failed) {  // the pod may be younger than the cached listing
      cands = candidates(true);
      cached = false;
      failed = attempt();
    }
    if (failed) throw NotFound(no_match(cands, progress, units[*failed]));
    for (std::size_t k = 0; k < newly.size(); ++k) {
      const Candidate* c = newly[k];
      try {
        pods_.patch_annotations(c->ns, c->name, {{k8s::kAliyunAssigned, "true"}, {kAliyunAssignTime, std::to_string(clock_())}});
      } catch (const std::exception& e) {
        throw Unavailable("node " + node_ + ": pod " + c->ns + "/" + c->name + ": patching " + k8s::kAliyunAssigned +
                          "=true failed (" + e.what() + "); nothing was allocated");
      }
    }
    progress_ = progress;
    return out;
  }

  /// @brief Pods this plugin has served (namespace/name -> containers served), for logs and tests.
  std::map<std::string, int> served() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<std::string, int> m;
    for (const auto& kv : progress_) m[kv.second.key] = kv.second.served;
    return m;
  }

  /// @brief Number of pod listings made (for tests of the cache).
  int listings() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return listings_;
  }

 private:
  struct Slot {
    std::string container;
    std::int64_t units = 0;
  };
  struct Candidate {
    std::string uid, ns, name;
    bool assigned = false;
    k8s::AliyunAssignment a;
    std::vector<Slot> slots;  // GPU containers in kubelet order
    std::string note;         // why it cannot match (parse error), empty when usable
  };
  struct Progress {
    std::string key;
    int served = 0;
    int total = 0;
  };

  std::vector<Candidate> candidates(bool force) {
    const std::int64_t now = clock_();
    if (force || !cache_valid_ || now - cache_at_ > opt_.cache_ms * 1000000) {
      nlohmann::json list;
      try {
        list = pods_.list_pods(node_);
      } catch (const std::exception& e) {
        throw Unavailable("node " + node_ + ": listing pods failed: " + e.what());
      }
      ++listings_;
      cache_ = parse(list);
      cache_at_ = now;
      cache_valid_ = true;
      std::set<std::string> live;
      for (const auto& c : cache_) live.insert(c.uid);
      for (auto it = progress_.begin(); it != progress_.end();) it = live.count(it->first) ? std::next(it) : progress_.erase(it);
    }
    return cache_;
  }

  std::vector<Candidate> parse(const nlohmann::json& list) const {
    const nlohmann::json* items = &list;
    if (list.is_object() && list.contains("items")) items = &list.at("items");
    if (!items->is_array()) throw Unavailable("node " + node_ + ": pod listing is not a list");
    std::vector<Candidate> out;
    for (const auto& pod : *items) {
      Candidate c;
      try {
        const auto& meta = pod.at("metadata");
        c.ns = meta.value("namespace", std::string("default"));
        c.name = meta.at("name").get<std::string>();
        c.uid = meta.value("uid", c.ns + "/" + c.name);
        if (pod.contains("spec") && pod.at("spec").value("nodeName", std::string()) != node_) continue;
        const std::string phase = pod.contains("status") ? pod.at("status").value("phase", std::string()) : std::string();
        if (phase == "Succeeded" || phase == "Failed") continue;
        k8s::AnnotationMap ann;
        if (meta.contains("annotations") && meta.at("annotations").is_object())
          for (const auto& kv : meta.at("annotations").items())
            if (kv.value().is_string()) ann[kv.key()] = kv.value().get<std::string>();
        if (!k8s::has_aliyun_assignment(ann)) continue;  // not placed by the extender
        c.a = k8s::parse_aliyun_annotations(ann, "pod " + c.ns + "/" + c.name);
        c.assigned = c.a.assigned;
        k8s::DialectOptions o;
        o.aliyun_mib = opt_.mib_unit;
        for (const auto& cr : k8s::pod_request(pod, k8s::Dialect::Aliyun, o).containers)
          if (cr.raw_mem > 0) c.slots.push_back({cr.name, cr.raw_mem});
      } catch (const std::exception& e) {
        c.note = e.what();
      }
      out.push_back(c);
    }
    std::stable_sort(out.begin(), out.end(), [](const Candidate& x, const Candidate& y) {
      return std::tie(x.a.assume_time, x.ns, x.name) < std::tie(y.a.assume_time, y.ns, y.name);
    });
    return out;
  }

  const Candidate* pick(const std::vector<Candidate>& cands, std::map<std::string, Progress>& progress, std::int64_t units,
                        bool cached) {
    for (const auto& c : cands) {  // 1. a pod part-way through its GPU containers
      auto it = progress.find(c.uid);
      if (c.note.empty() && it != progress.end() && it->second.served < it->second.total &&
          c.slots[static_cast<std::size_t>(it->second.served)].units == units)
        return &c;
    }
    // 1b. after a restart of this plugin: an assigned pod whose first GPU containers hold gpu-mem
    // devices in the kubelet's view and whose next one asks for U is part-way too.
    std::optional<std::vector<KubeletPod>> view;
    for (const auto& c : cands) {
      if (!c.note.empty() || !c.assigned || progress.count(c.uid) || c.slots.size() < 2 || !kubelet_) continue;
      if (!view && !(view = kubelet_->list())) break;
      for (const auto& kp : *view) {
        if (kp.ns != c.ns || kp.name != c.name) continue;
        std::size_t k = 0;
        while (k < c.slots.size() && holds_gpu_mem(kp, c.slots[k].container)) ++k;
        if (k > 0 && k < c.slots.size() && c.slots[k].units == units) {
          progress[c.uid] = Progress{c.ns + "/" + c.name, static_cast<int>(k), static_cast<int>(c.slots.size())};
          return &c;
        }
      }
    }
    std::vector<const Candidate*> fresh;  // 2. assumed, not assigned, not served, first slot fits
    for (const auto& c : cands)
      if (c.note.empty() && !c.assigned && !progress.count(c.uid) && !c.slots.empty() && c.slots[0].units == units)
        fresh.push_back(&c);
    // From a cached listing even a lone candidate is checked: the pod being admitted may have been
    // bound after the listing, and the lone one not yet seen by the kubelet.
    if ((fresh.size() > 1 || (cached && fresh.size() == 1)) && kubelet_) {
      if (!view) view = kubelet_->list();
      if (view) {
        std::vector<const Candidate*> known;
        for (const Candidate* c : fresh)
          for (const auto& kp : *view)
            if (kp.ns == c->ns && kp.name == c->name && !holds_gpu_mem(kp, c->slots[0].container)) known.push_back(c);
        if (!known.empty()) fresh = known;
        else if (cached) return nullptr;  // none is being admitted: list the pods again
      }
    }
    return fresh.empty() ? nullptr : fresh.front();
  }

  static bool holds_gpu_mem(const KubeletPod& kp, const std::string& container) {
    auto it = kp.containers.find(container);
    if (it == kp.containers.end()) return false;
    auto r = it->second.find(resource_name(Resource::AliyunMem));
    return r != it->second.end() && !r->second.empty();
  }

  std::map<std::string, std::string> serve(const GpuInventory& inv, const Candidate& c, std::map<std::string, Progress>& progress,
                                           std::vector<const Candidate*>& newly) const {
    const std::string who = "node " + node_ + ": pod " + c.ns + "/" + c.name;
    if (c.a.gpu < 0 || c.a.gpu >= static_cast<int>(inv.gpus.size()))
      throw ConflictError(who + ": " + k8s::kAliyunIdx + "=" + std::to_string(c.a.gpu) + " but the node has " +
                          std::to_string(inv.gpus.size()) + " GPUs");
    const NodeGpu& g = inv.gpus[static_cast<std::size_t>(c.a.gpu)];
    if (!g.healthy) throw ConflictError(who + ": its GPU " + std::to_string(g.index) + " (" + g.uuid + ") is unhealthy");
    auto it = progress.find(c.uid);
    if (it == progress.end()) {
      it = progress.emplace(c.uid, Progress{c.ns + "/" + c.name, 0, static_cast<int>(c.slots.size())}).first;
      newly.push_back(&c);
    }
    const Slot& s = c.slots[static_cast<std::size_t>(it->second.served)];
    ++it->second.served;
    return {{"NVIDIA_VISIBLE_DEVICES", g.uuid},
            {k8s::kAliyunIdx, std::to_string(g.index)},
            {k8s::kAliyunPod, std::to_string(c.a.pod_mem)},
            {kAliyunContainer, std::to_string(s.units)},
            {k8s::kAliyunDev, std::to_string(gpu_mem_units(g, opt_.mib_unit))}};
  }

  std::string no_match(const std::vector<Candidate>& cands, const std::map<std::string, Progress>& progress, std::int64_t units) const {
    std::string m = "node " + node_ + ": no pod waits for aliyun.com/gpu-mem=" + std::to_string(units) +
                    (opt_.mib_unit ? " MiB" : " GiB") + "; candidates seen:";
    if (cands.empty()) m += " none (no pod on this node carries " + std::string(k8s::kAliyunIdx) + ")";
    for (const auto& c : cands) {
      m += " " + c.ns + "/" + c.name + " (";
      if (!c.note.empty()) {
        m += "unreadable: " + c.note + ")";
        continue;
      }
      m += "gpu " + std::to_string(c.a.gpu) + ", containers";
      for (const auto& s : c.slots) m += " " + s.container + "=" + std::to_string(s.units);
      auto it = progress.find(c.uid);
      if (it != progress.end()) m += ", served " + std::to_string(it->second.served) + "/" + std::to_string(it->second.total);
      else if (c.assigned) m += ", already assigned";
      m += ")";
    }
    return m;
  }

  std::string node_;
  PodSource& pods_;
  KubeletView* kubelet_;
  AliyunMatchOptions opt_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Progress> progress_;  // pod uid -> containers served
  std::vector<Candidate> cache_;
  std::int64_t cache_at_ = 0;
  bool cache_valid_ = false;
  int listings_ = 0;
};

}  // namespace node
}  // namespace gpushare
