// gpushare/modes/hami/hami.hpp — the HAMi scheduler mode (nvidia.com/gpu + gpumem / gpumem-percentage /
// gpucores): container requests, device scores (float32), device ordering, Fit with upstream
// reason strings, node scores and node selection.  Pure decision logic, no JSON.
//
// @code
//   using namespace gpushare::k8s::hami;
//   std::vector<NodeDevices> nodes = {{"n1", {{"uuid1", 0, "NVIDIA", 10, 0, 8000, 0, 100, 0, 0, true}}}};
//   PodAsk pod;  pod.containers = {{{"NVIDIA", 1, 1000, 101, 30}}};
//   ScoreResult r = calc_score(nodes, pod);   // r.selected == "n1"
// @endcode
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace k8s {
namespace hami {

/// @brief One device as HAMi tracks it (memory in MiB, cores in percent of one GPU).
struct Device {
  std::string id;          ///< UUID
  int index = 0;
  std::string type;        ///< model name, e.g. "NVIDIA A100-SXM4-40GB"
  std::int32_t count = 10; ///< time-slice slots
  std::int32_t used = 0;   ///< pods on it
  std::int32_t totalmem = 0, usedmem = 0;
  std::int32_t totalcore = 100, usedcores = 0;
  int numa = 0;
  bool health = true;
  std::string mode;        ///< device mode, e.g. "hami-core" (empty = unknown)
};

/// @brief One container's request for one device type.
struct ContainerReq {
  std::string type = "NVIDIA";
  std::int32_t nums = 0;
  std::int32_t memreq = 0;           ///< MiB
  std::int32_t mem_percentage = 101; ///< 101 = unset
  std::int32_t coresreq = 0;         ///< percent
};

/// @brief A device picked for a container, with the resolved memory and cores.
struct Picked {
  int idx = 0;
  std::string uuid;
  std::int32_t usedmem = 0, usedcores = 0;
  friend bool operator==(const Picked& a, const Picked& b) {
    return a.idx == b.idx && a.uuid == b.uuid && a.usedmem == b.usedmem && a.usedcores == b.usedcores;
  }
};

/// @brief Score weights (pod annotation hami.io/device-scoring-weights).
struct Weights { std::int64_t slot = 1, core = 1, memory = 1; };

/// @brief Scheduler configuration affecting request parsing.
struct Config {
  std::int64_t memory_factor = 1;
  std::int64_t default_memory = 0;
  std::int32_t default_cores = 0;
};

using Annotations = std::map<std::string, std::string>;

namespace detail {
inline std::string upper(std::string s) { for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c))); return s; }
inline std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\n\r"), e = s.find_last_not_of(" \t\n\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}
inline std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (true) {
    auto q = s.find(',', p);
    out.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}
inline const std::string* ann(const Annotations& a, const char* k) {
  auto it = a.find(k);
  return it == a.end() ? nullptr : &it->second;
}
}  // namespace detail

/// @brief Resource quantities of one container as integers (nullopt = not an exact integer).
struct ContainerResources {
  std::map<std::string, std::optional<std::int64_t>> limits, requests;
};

/// @brief HAMi's request for one container; nullopt when there is no (valid) GPU request.
inline std::optional<ContainerReq> resource_request(const ContainerResources& r, const Config& cfg = {}) {
  auto get = [&](const char* k, bool& present) -> std::optional<std::int64_t> {
    present = true;
    auto it = r.limits.find(k);
    if (it != r.limits.end()) return it->second;
    it = r.requests.find(k);
    if (it != r.requests.end()) return it->second;
    present = false;
    return std::nullopt;
  };
  bool pr = false;
  auto n = get("nvidia.com/gpu", pr);
  if (!pr || !n) return std::nullopt;
  std::int64_t memnum = 0;
  auto mem = get("nvidia.com/gpumem", pr);
  if (pr) {
    const std::int64_t factor = std::max<std::int64_t>(cfg.memory_factor, 1);
    if (!mem || *mem < 0 || *mem > std::numeric_limits<std::int32_t>::max() / factor) return std::nullopt;
    memnum = *mem * factor;
  }
  std::int32_t mempnum = 101;
  auto pct = get("nvidia.com/gpumem-percentage", pr);
  if (pr && pct) {
    std::int64_t v = *pct > 100 ? 100 : *pct;
    mempnum = v > 0 ? static_cast<std::int32_t>(v) : 101;
  }
  if (mempnum == 101 && memnum == 0) {
    if (cfg.default_memory != 0) memnum = cfg.default_memory; else mempnum = 100;
  }
  std::int32_t cores = cfg.default_cores;
  auto c = get("nvidia.com/gpucores", pr);
  if (pr && c) cores = static_cast<std::int32_t>(*c);
  ContainerReq out;
  out.nums = static_cast<std::int32_t>(*n);
  if (out.nums <= 0) return std::nullopt;
  out.memreq = static_cast<std::int32_t>(memnum);
  out.mem_percentage = mempnum;
  out.coresreq = cores;
  return out;
}

/// @brief Device score for one container's requests (float32, as upstream).
inline float device_score(const Device& d, const std::vector<ContainerReq>& reqs, const Weights& w = {}) {
  if (d.count == 0 || d.totalcore == 0 || d.totalmem == 0) return 0.0f;
  std::int32_t request = 0, core = 0, mem = 0;
  for (const auto& c : reqs) {
    if (c.type != d.type) continue;
    request += 1;
    core += c.coresreq;
    if (c.mem_percentage != 0 && c.mem_percentage != 101) {
      mem += static_cast<std::int32_t>((static_cast<std::int64_t>(d.totalmem) * c.mem_percentage) / 100);
      continue;
    }
    mem += c.memreq;
  }
  const float used = static_cast<float>(request + d.used) / static_cast<float>(d.count);
  const float cs = static_cast<float>(core + d.usedcores) / static_cast<float>(d.totalcore);
  const float ms = static_cast<float>(mem + d.usedmem) / static_cast<float>(d.totalmem);
  const float inner = static_cast<float>(w.slot) * used + static_cast<float>(w.core) * cs;
  return 10.0f * (inner + static_cast<float>(w.memory) * ms);
}

/// @brief Node default score: 10 x (used/count + usedcores/totalcore + usedmem/totalmem) summed
/// over the node's devices; 0 if a total is 0.
inline float node_default_score(const std::vector<Device>& ds) {
  std::int32_t u = 0, uc = 0, um = 0, t = 0, tc = 0, tm = 0;
  for (const auto& d : ds) { u += d.used; uc += d.usedcores; um += d.usedmem; t += d.count; tc += d.totalcore; tm += d.totalmem; }
  if (t == 0 || tc == 0 || tm == 0) return 0.0f;
  const float a = static_cast<float>(u) / static_cast<float>(t);
  const float b = static_cast<float>(uc) / static_cast<float>(tc);
  const float c = static_cast<float>(um) / static_cast<float>(tm);
  return 10.0f * ((a + b) + c);
}

/// @brief The sort keys HAMi's device ordering looks at.
struct SortKey { float score = 0; int numa = 0; int index = 0; std::int32_t used = 0; };

/// @brief HAMi's device ordering: whether a sorts before b under `policy` (binpack, spread,
/// mutex, numa or a comma chain) with or without NUMA binding.  Fit walks the list from the end.
inline bool device_less(const std::string& policy, bool numa_bind, const SortKey& a, const SortKey& b) {
  if (policy.find(',') != std::string::npos || policy == "numa") {
    std::vector<std::string> chain;
    for (const auto& p0 : detail::split(policy)) {
      const std::string p = detail::trim(p0);
      if ((p == "binpack" || p == "spread" || p == "numa") && std::find(chain.begin(), chain.end(), p) == chain.end()) chain.push_back(p);
    }
    if (chain.empty()) chain.push_back("spread");
    if (numa_bind && chain[0] != "numa") {
      std::vector<std::string> w{"numa"};
      for (auto& k : chain) if (k != "numa") w.push_back(k);
      chain = w;
    }
    for (const auto& k : chain) {
      if (k == "binpack" && a.score != b.score) return a.score < b.score;
      if (k == "spread" && a.score != b.score) return a.score > b.score;
      if (k == "numa" && a.numa != b.numa) return a.numa < b.numa;
    }
    return a.index < b.index;
  }
  const bool binpack = policy == "binpack";
  if (policy == "mutex") {
    if (a.used != b.used) return a.used > b.used;
    return a.numa < b.numa;
  }
  if (numa_bind) {
    if (binpack) return a.numa == b.numa ? a.score < b.score : a.numa > b.numa;
    return a.numa == b.numa ? a.score > b.score : a.numa < b.numa;
  }
  if (binpack) return a.score != b.score ? a.score < b.score : a.numa < b.numa;
  return a.score != b.score ? a.score > b.score : a.numa < b.numa;
}

/// @brief Whether the card type passes nvidia.com/use-gputype / nouse-gputype (case-insensitive
/// substring, comma lists, blank = no constraint), nvidia.com/vgpu-mode and the request type.
inline bool type_allowed(const Annotations& an, const std::string& card_type, const std::string& device_mode = "",
                         const std::string& request_type = "NVIDIA") {
  const std::string up = detail::upper(card_type);
  auto match = [&](const std::string& list) {
    for (auto t : detail::split(list)) {
      t = detail::trim(t);
      if (!t.empty() && up.find(detail::upper(t)) != std::string::npos) return true;
    }
    return false;
  };
  bool ok = true;
  if (auto u = detail::ann(an, "nvidia.com/use-gputype"); u && !detail::trim(*u).empty() && !match(*u)) ok = false;
  if (auto u = detail::ann(an, "nvidia.com/nouse-gputype"); ok && u && !detail::trim(*u).empty() && match(*u)) ok = false;
  if (auto m = detail::ann(an, "nvidia.com/vgpu-mode"); m && m->find(device_mode) == std::string::npos) ok = false;
  return request_type == "NVIDIA" && ok;
}

/// @brief Whether the UUID passes nvidia.com/use-gpuuuid / nouse-gpuuuid (exact, trimmed).
inline bool uuid_allowed(const Annotations& an, const std::string& id) {
  auto match = [&](const std::string& list) {
    for (const auto& u : detail::split(list)) if (detail::trim(u) == id) return true;
    return false;
  };
  if (auto u = detail::ann(an, "nvidia.com/use-gpuuuid"); u && !detail::trim(*u).empty() && !match(*u)) return false;
  if (auto u = detail::ann(an, "nvidia.com/nouse-gpuuuid"); u && !detail::trim(*u).empty() && match(*u)) return false;
  return true;
}

/// @brief Outcome of Fit for one request.
struct FitResult {
  bool fit = false;
  std::vector<Picked> devices;  ///< in pick order; partial on failure
  std::string reason;           ///< "n/N Reason, ..." sorted, empty on success
};

inline bool policy_contains(const std::string& policy, const std::string& name) {
  for (const auto& p : detail::split(policy)) if (detail::trim(p) == name) return true;
  return false;
}

/// @brief HAMi's NVIDIA Fit: walks `devices` from the end and collects `req.nums` devices.
inline FitResult fit(const std::vector<Device>& devices, ContainerReq k, const Annotations& pod_ann = {},
                     const Annotations& node_ann = {}, const std::string& gpu_policy = "spread") {
  const std::int32_t origin = k.nums;
  int prevnuma = -1;
  std::map<std::string, int> reason;
  FitResult r;
  const bool mutex = policy_contains(gpu_policy, "mutex");
  std::vector<std::string> cordoned;
  if (auto c = detail::ann(node_ann, "hami.io/device-cordon"))
    for (const auto& u : detail::split(*c)) if (!detail::trim(u).empty()) cordoned.push_back(detail::trim(u));
  bool numa_bind = false;
  if (auto nb = detail::ann(pod_ann, "nvidia.com/numa-bind")) numa_bind = (*nb == "true" || *nb == "1" || *nb == "t" || *nb == "T" || *nb == "TRUE" || *nb == "True");
  for (int i = static_cast<int>(devices.size()) - 1; i >= 0; --i) {
    const Device& d = devices[i];
    if (!d.health) { reason["CardNotHealth"]++; continue; }
    if (std::find(cordoned.begin(), cordoned.end(), d.id) != cordoned.end()) { reason["CardCordoned"]++; continue; }
    if (!type_allowed(pod_ann, d.type, d.mode, k.type)) { reason["CardTypeMismatch"]++; continue; }
    if (numa_bind && prevnuma != d.numa) {
      if (k.nums != origin) reason["NumaNotFit"] += static_cast<int>(r.devices.size());
      k.nums = origin;
      prevnuma = d.numa;
      r.devices.clear();
    }
    if (!uuid_allowed(pod_ann, d.id)) { reason["CardUuidMismatch"]++; continue; }
    if (d.count <= d.used) { reason["CardTimeSlicingExhausted"]++; continue; }
    if (mutex && d.used > 0) { reason["ExclusiveDeviceAllocateConflict"]++; continue; }
    if (k.coresreq > 100) k.coresreq = 100;
    std::int32_t memreq = 0;
    if (k.memreq > 0) memreq = k.memreq;
    if (k.mem_percentage != 101 && k.memreq == 0) memreq = d.totalmem * k.mem_percentage / 100;
    if (d.totalmem - d.usedmem < memreq) { reason["CardInsufficientMemory"]++; continue; }
    if (d.totalcore - d.usedcores < k.coresreq) { reason["CardInsufficientCore"]++; continue; }
    if (d.totalcore == 100 && k.coresreq == 100 && d.used > 0) { reason["ExclusiveDeviceAllocateConflict"]++; continue; }
    if (d.totalcore != 0 && d.usedcores == d.totalcore && k.coresreq == 0) { reason["CardComputeUnitsExhausted"]++; continue; }
    if (k.nums > 0) {
      k.nums--;
      r.devices.push_back({d.index, d.id, memreq, k.coresreq});
    }
    if (k.nums == 0) { r.fit = true; return r; }
  }
  if (!r.devices.empty()) reason["AllocatedCardsInsufficientRequest"] = static_cast<int>(r.devices.size());
  std::vector<std::string> parts;
  for (const auto& kv : reason) parts.push_back(std::to_string(kv.second) + "/" + std::to_string(devices.size()) + " " + kv.first);
  std::sort(parts.begin(), parts.end());
  for (std::size_t i = 0; i < parts.size(); ++i) r.reason += (i ? ", " : "") + parts[i];
  return r;
}

/// @brief A node with its devices in registration order.
struct NodeDevices {
  std::string name;
  std::vector<Device> devices;
  Annotations annotations;  ///< node annotations (hami.io/device-cordon)
};

/// @brief A pod as HAMi sees it: per-container requests (init containers first) and annotations.
struct PodAsk {
  std::vector<std::vector<ContainerReq>> containers;  ///< [] = container without GPU
  int init_containers = 0;
  Annotations annotations;
};

/// @brief Per fitting node: score and devices per container.
struct NodeFit {
  float score = 0;
  std::vector<std::vector<Picked>> devices;
};

/// @brief calc_score over all nodes and the node the scheduler selects ("" when none / tied).
struct ScoreResult {
  std::map<std::string, NodeFit> nodes;
  std::map<std::string, std::string> failed;
  std::string selected;
};

/// @brief The node the scheduler picks among fitting nodes by score: highest for binpack, lowest
/// for spread; "" when the best score is tied.
inline std::string node_select(const std::map<std::string, float>& scores, const std::string& node_policy) {
  const bool spread = node_policy == "spread";
  bool tie = false;
  std::string best;
  float bs = 0;
  for (const auto& kv : scores) {
    if (best.empty() || (spread ? kv.second < bs : kv.second > bs)) { best = kv.first; bs = kv.second; tie = false; }
    else if (kv.second == bs) tie = true;
  }
  return tie ? std::string() : best;
}

/// @brief Places one container's requests on `devs` (sorted in place, booked on success).
inline bool fit_in_devices(std::vector<Device>& devs, const std::vector<ContainerReq>& reqs, const PodAsk& pod,
                           const Annotations& node_ann, const std::string& gpu_policy, bool numa_bind,
                           const Weights& w, std::vector<Picked>& out, std::string& reason) {
  std::vector<float> score(devs.size());
  for (std::size_t i = 0; i < devs.size(); ++i) score[i] = device_score(devs[i], reqs, w);
  for (const auto& k : reqs) {
    std::vector<std::size_t> ord(devs.size());
    for (std::size_t i = 0; i < ord.size(); ++i) ord[i] = i;
    std::stable_sort(ord.begin(), ord.end(), [&](std::size_t a, std::size_t b) {
      return device_less(gpu_policy, numa_bind, {score[a], devs[a].numa, devs[a].index, devs[a].used},
                         {score[b], devs[b].numa, devs[b].index, devs[b].used});
    });
    std::vector<Device> nd;
    std::vector<float> ns;
    for (auto i : ord) { nd.push_back(devs[i]); ns.push_back(score[i]); }
    devs = nd;
    score = ns;
    if (k.type != "NVIDIA") { reason = "Device type not found"; return false; }  // only NVIDIA is registered
    std::vector<Device> typed;
    for (const auto& d : devs) if (detail::upper(d.type).find(detail::upper(k.type)) != std::string::npos) typed.push_back(d);
    if (k.nums > static_cast<std::int32_t>(typed.size())) { reason = "NodeInsufficientDevice"; return false; }
    FitResult f = fit(typed, k, pod.annotations, node_ann, gpu_policy);
    if (!f.fit) { reason = f.reason; return false; }
    for (const auto& p : f.devices) {
      for (auto& d : devs) if (d.id == p.uuid) { d.used++; d.usedcores += p.usedcores; d.usedmem += p.usedmem; break; }
      out.push_back(p);
    }
  }
  return true;
}

/// @brief HAMi's calcScore + node selection.  `gpu_policy` / `node_policy` are the scheduler
/// defaults; pod annotations hami.io/gpu-scheduler-policy / node-scheduler-policy override them.
inline ScoreResult calc_score(const std::vector<NodeDevices>& nodes, const PodAsk& pod,
                              std::string gpu_policy = "spread", std::string node_policy = "binpack",
                              const Weights& w = {}) {
  if (pod.init_containers < 0 || static_cast<std::size_t>(pod.init_containers) > pod.containers.size())
    throw InvalidArgument("hami calc_score: the pod says it has " + std::to_string(pod.init_containers) +
                          " init containers but lists " + std::to_string(pod.containers.size()) + " containers");
  if (auto p = detail::ann(pod.annotations, "hami.io/gpu-scheduler-policy")) gpu_policy = *p;
  if (auto p = detail::ann(pod.annotations, "hami.io/node-scheduler-policy")) node_policy = *p;
  bool numa_bind = false;
  if (auto nb = detail::ann(pod.annotations, "nvidia.com/numa-bind")) numa_bind = (*nb == "true" || *nb == "1" || *nb == "TRUE" || *nb == "True" || *nb == "t" || *nb == "T");
  ScoreResult res;
  for (const auto& node : nodes) {
    NodeFit nf;
    std::string reason;
    bool ok = true;
    for (int i = 0; i < pod.init_containers && ok; ++i) {
      std::vector<Picked> out;
      if (!pod.containers[i].empty()) {
        std::vector<Device> copy = node.devices;
        ok = fit_in_devices(copy, pod.containers[i], pod, node.annotations, gpu_policy, numa_bind, w, out, reason);
      }
      nf.devices.push_back(out);
    }
    if (!ok) { res.failed[node.name] = reason; continue; }
    std::vector<Device> app = node.devices;
    nf.score = node_default_score(app);
    for (std::size_t i = static_cast<std::size_t>(pod.init_containers); i < pod.containers.size() && ok; ++i) {
      std::vector<Picked> out;
      std::int64_t sums = 0;
      for (const auto& k : pod.containers[i]) sums += k.nums;
      if (sums != 0) ok = fit_in_devices(app, pod.containers[i], pod, node.annotations, gpu_policy, numa_bind, w, out, reason);
      nf.devices.push_back(out);
    }
    if (!ok) { res.failed[node.name] = reason; continue; }
    res.nodes[node.name] = nf;
  }
  std::map<std::string, float> scores;
  for (const auto& kv : res.nodes) scores[kv.first] = kv.second.score;
  res.selected = node_select(scores, node_policy);
  return res;
}

}  // namespace hami
}  // namespace k8s
}  // namespace gpushare
