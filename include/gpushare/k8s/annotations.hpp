// gpushare/k8s/annotations.hpp — the annotations each system writes on bind, written and parsed
// exactly: Aliyun ALIYUN_COM_GPU_MEM_*, Tencent tencent.com/predicate-* and gpu-assigned, HAMi
// hami.io/vgpu-devices-allocated (and -to-allocate) and the node register annotation
// hami.io/node-nvidia-register (JSON list, or the older "id,count,mem,core,type,numa,health[,index,mode]:" form).
//
// @code
//   auto a = gpushare::k8s::aliyun_bind_annotations(1, 8, 15, 1700000000000000000);
//   // a["ALIYUN_COM_GPU_MEM_IDX"] == "1", a["ALIYUN_COM_GPU_MEM_POD"] == "8", ...
//   gpushare::k8s::AliyunAssignment x = gpushare::k8s::parse_aliyun_annotations(a, "pod ns/p");
// @endcode
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/io/json_number.hpp"
#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace k8s {

using AnnotationMap = std::map<std::string, std::string>;

namespace detail {
/// Strict base-10 integer (optional sign), as Go's strconv.Atoi / ParseInt.
inline bool parse_int(const std::string& s, std::int64_t& out) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  std::int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    if (v > (INT64_MAX - 9) / 10) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = s[0] == '-' ? -v : v;
  return true;
}
inline std::int64_t need_int(const AnnotationMap& a, const std::string& key, const std::string& what) {
  auto it = a.find(key);
  if (it == a.end()) throw ParseError(what + ": missing annotation " + key);
  std::int64_t v = 0;
  if (!parse_int(it->second, v)) throw ParseError(what + ": annotation " + key + "='" + it->second + "' is not an integer");
  return v;
}
inline std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t p = 0;
  while (true) {
    auto q = s.find(sep, p);
    out.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}
}  // namespace detail

// ---------------------------------------------------------------- Aliyun

inline const char* kAliyunIdx = "ALIYUN_COM_GPU_MEM_IDX";
inline const char* kAliyunPod = "ALIYUN_COM_GPU_MEM_POD";
inline const char* kAliyunDev = "ALIYUN_COM_GPU_MEM_DEV";
inline const char* kAliyunAssigned = "ALIYUN_COM_GPU_MEM_ASSIGNED";
inline const char* kAliyunAssumeTime = "ALIYUN_COM_GPU_MEM_ASSUME_TIME";

/// @brief What the Aliyun extender recorded on a pod.
struct AliyunAssignment {
  int gpu = -1;                 ///< ALIYUN_COM_GPU_MEM_IDX
  std::int64_t pod_mem = 0;     ///< ALIYUN_COM_GPU_MEM_POD (gpu-mem units)
  std::int64_t dev_mem = 0;     ///< ALIYUN_COM_GPU_MEM_DEV (per-GPU total), 0 if absent
  bool assigned = false;        ///< ALIYUN_COM_GPU_MEM_ASSIGNED
  std::int64_t assume_time = 0; ///< ALIYUN_COM_GPU_MEM_ASSUME_TIME (Unix ns), 0 if absent
};

/// @brief The annotations the Aliyun extender writes on bind.
inline AnnotationMap aliyun_bind_annotations(int gpu, std::int64_t pod_mem, std::int64_t dev_mem, std::int64_t now_ns) {
  return {{kAliyunIdx, std::to_string(gpu)}, {kAliyunDev, std::to_string(dev_mem)},
          {kAliyunPod, std::to_string(pod_mem)}, {kAliyunAssigned, "false"},
          {kAliyunAssumeTime, std::to_string(now_ns)}};
}

/// @brief True if the pod carries an Aliyun GPU index annotation.
inline bool has_aliyun_assignment(const AnnotationMap& a) { return a.count(kAliyunIdx) > 0; }

/// @brief Parses the Aliyun annotations; throws ParseError naming `what` and the key.
inline AliyunAssignment parse_aliyun_annotations(const AnnotationMap& a, const std::string& what) {
  AliyunAssignment r;
  const std::int64_t idx = detail::need_int(a, kAliyunIdx, what);
  if (idx < 0 || idx > 1024) throw InvalidArgument(what + ": annotation " + std::string(kAliyunIdx) + "=" + std::to_string(idx) + " is not a GPU index");
  r.gpu = static_cast<int>(idx);
  r.pod_mem = detail::need_int(a, kAliyunPod, what);
  if (r.pod_mem < 0) throw InvalidArgument(what + ": annotation " + std::string(kAliyunPod) + " is negative");
  if (a.count(kAliyunDev)) r.dev_mem = detail::need_int(a, kAliyunDev, what);
  if (a.count(kAliyunAssumeTime)) r.assume_time = detail::need_int(a, kAliyunAssumeTime, what);
  auto it = a.find(kAliyunAssigned);
  r.assigned = it != a.end() && it->second == "true";
  return r;
}

// ---------------------------------------------------------------- Tencent

inline const char* kTencentIdxPrefix = "tencent.com/predicate-gpu-idx-";
inline const char* kTencentNode = "tencent.com/predicate-node";
inline const char* kTencentTime = "tencent.com/predicate-time";
inline const char* kTencentAssigned = "tencent.com/gpu-assigned";

/// @brief What gpu-admission recorded: node and GPU indices per container index.
struct TencentAssignment {
  std::string node;
  std::map<int, std::vector<int>> gpus;  ///< container index -> GPU indices in pick order
  bool assigned = false;
  std::int64_t time = 0;
};

/// @brief The annotations gpu-admission writes: one predicate-gpu-idx-<i> per GPU container.
inline AnnotationMap tencent_bind_annotations(const std::string& node, const std::map<int, std::vector<int>>& gpus,
                                              std::int64_t now_ns) {
  AnnotationMap a;
  for (const auto& kv : gpus) {
    std::string v;
    for (std::size_t i = 0; i < kv.second.size(); ++i) v += (i ? "," : "") + std::to_string(kv.second[i]);
    a[kTencentIdxPrefix + std::to_string(kv.first)] = v;
  }
  a[kTencentNode] = node;
  a[kTencentAssigned] = "false";
  a[kTencentTime] = std::to_string(now_ns);
  return a;
}

inline bool has_tencent_assignment(const AnnotationMap& a) {
  for (const auto& kv : a) if (kv.first.rfind(kTencentIdxPrefix, 0) == 0) return true;
  return false;
}

/// @brief Parses gpu-admission's annotations; throws ParseError naming `what` and the key.
inline TencentAssignment parse_tencent_annotations(const AnnotationMap& a, const std::string& what) {
  TencentAssignment r;
  for (const auto& kv : a) {
    if (kv.first.rfind(kTencentIdxPrefix, 0) != 0) continue;
    std::int64_t ci = 0;
    if (!detail::parse_int(kv.first.substr(std::string(kTencentIdxPrefix).size()), ci) || ci < 0)
      throw ParseError(what + ": annotation key " + kv.first + " has no container index");
    std::vector<int> ids;
    for (const auto& s : detail::split_on(kv.second, ',')) {
      std::int64_t g = 0;
      if (!detail::parse_int(s, g) || g < 0 || g > 1024)
        throw ParseError(what + ": annotation " + kv.first + "='" + kv.second + "' is not a list of GPU indices");
      ids.push_back(static_cast<int>(g));
    }
    r.gpus[static_cast<int>(ci)] = ids;
  }
  if (auto it = a.find(kTencentNode); it != a.end()) r.node = it->second;
  if (auto it = a.find(kTencentAssigned); it != a.end()) r.assigned = it->second == "true";
  if (a.count(kTencentTime)) r.time = detail::need_int(a, kTencentTime, what);
  return r;
}

// ---------------------------------------------------------------- HAMi

inline const char* kHamiAllocated = "hami.io/vgpu-devices-allocated";
inline const char* kHamiToAllocate = "hami.io/vgpu-devices-to-allocate";
inline const char* kHamiNode = "hami.io/vgpu-node";
inline const char* kHamiRegister = "hami.io/node-nvidia-register";

/// @brief One device of one container in HAMi's pod annotation.
struct HamiContainerDevice {
  std::string uuid;
  std::string type = "NVIDIA";
  std::int32_t usedmem = 0;    ///< MiB
  std::int32_t usedcores = 0;  ///< percent
  friend bool operator==(const HamiContainerDevice& a, const HamiContainerDevice& b) {
    return a.uuid == b.uuid && a.type == b.type && a.usedmem == b.usedmem && a.usedcores == b.usedcores;
  }
};
using HamiPodDevices = std::vector<std::vector<HamiContainerDevice>>;  ///< per container

/// @brief Encodes per-container devices as HAMi does: "uuid,type,mem,cores:" per device, ";" after each container.
inline std::string encode_hami_pod_devices(const HamiPodDevices& pd) {
  std::string s;
  for (const auto& c : pd) {
    for (const auto& d : c) s += d.uuid + "," + d.type + "," + std::to_string(d.usedmem) + "," + std::to_string(d.usedcores) + ":";
    s += ";";
  }
  return s;
}

/// @brief Decodes hami.io/vgpu-devices-allocated; throws ParseError naming `what`.
inline HamiPodDevices decode_hami_pod_devices(const std::string& s, const std::string& what) {
  HamiPodDevices out;
  auto ctrs = detail::split_on(s, ';');
  if (!ctrs.empty() && ctrs.back().empty()) ctrs.pop_back();
  for (const auto& c : ctrs) {
    std::vector<HamiContainerDevice> devs;
    for (const auto& d : detail::split_on(c, ':')) {
      if (d.find(',') == std::string::npos) continue;
      auto f = detail::split_on(d, ',');
      if (f.size() < 4) throw ParseError(what + ": annotation " + std::string(kHamiAllocated) + " entry '" + d + "' has fewer than 4 fields");
      std::int64_t m = 0, k = 0;
      if (!detail::parse_int(f[2], m) || !detail::parse_int(f[3], k) || m < INT32_MIN || m > INT32_MAX || k < INT32_MIN || k > INT32_MAX)
        throw ParseError(what + ": annotation " + std::string(kHamiAllocated) + " entry '" + d + "' has a bad memory or core field");
      devs.push_back({f[0], f[1], static_cast<std::int32_t>(m), static_cast<std::int32_t>(k)});
    }
    out.push_back(devs);
  }
  return out;
}

/// @brief The annotations HAMi writes on bind.
inline AnnotationMap hami_bind_annotations(const std::string& node, const HamiPodDevices& pd) {
  const std::string enc = encode_hami_pod_devices(pd);
  return {{kHamiAllocated, enc}, {kHamiToAllocate, enc}, {kHamiNode, node}};
}

/// @brief One device of the node register annotation.
struct HamiNodeDevice {
  std::string id;
  int index = 0;
  std::int32_t count = 10;
  std::int32_t devmem = 0;    ///< MiB
  std::int32_t devcore = 100; ///< percent
  std::string type;
  int numa = 0;
  bool health = true;
  std::string mode = "hami-core";
};

/// @brief Encodes the node register annotation as the device plugin does (JSON list).
inline std::string encode_hami_node_register(const std::vector<HamiNodeDevice>& ds) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& d : ds)
    a.push_back({{"id", d.id}, {"count", d.count}, {"devmem", d.devmem}, {"devcore", d.devcore}, {"type", d.type},
                 {"numa", d.numa}, {"health", d.health}, {"index", d.index}, {"mode", d.mode}});
  return a.dump();
}

/// @brief Decodes the node register annotation, JSON or the older colon-separated form.
inline std::vector<HamiNodeDevice> decode_hami_node_register(const std::string& s, const std::string& what) {
  std::vector<HamiNodeDevice> out;
  const std::string key = what + ": annotation " + std::string(kHamiRegister);
  if (!s.empty() && s[0] == '[') {
    nlohmann::json a;
    try { a = nlohmann::json::parse(s); } catch (const std::exception& e) { throw ParseError(key + " is not valid JSON: " + e.what()); }
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto& d = a[i];
      try {
        HamiNodeDevice x;
        x.id = d.at("id").get<std::string>();
        const std::string dev = key + " device " + std::to_string(i);
        constexpr std::int64_t int32_max = 2147483647;
        x.count = static_cast<std::int32_t>(io::json_integer(d.at("count"), dev + " count", 0, int32_max));
        x.devmem = static_cast<std::int32_t>(io::json_integer(d.at("devmem"), dev + " devmem", 0, int32_max));
        x.devcore = static_cast<std::int32_t>(io::json_integer(d.at("devcore"), dev + " devcore", 0, int32_max));
        x.type = d.at("type").get<std::string>();
        x.numa = d.contains("numa") ? static_cast<int>(io::json_integer(d.at("numa"), dev + " numa", -1, int32_max)) : 0;
        x.health = d.value("health", true);
        x.index = d.contains("index") ? static_cast<int>(io::json_integer(d.at("index"), dev + " index", 0, int32_max))
                                      : static_cast<int>(i);
        x.mode = d.value("mode", std::string("hami-core"));
        out.push_back(x);
      } catch (const nlohmann::json::exception& e) {
        throw ParseError(key + " device " + std::to_string(i) + ": " + e.what());
      }
    }
    return out;
  }
  if (s.find(':') == std::string::npos) throw ParseError(key + " has no device separator");
  for (const auto& seg : detail::split_on(s, ':')) {
    if (seg.empty()) continue;
    auto f = detail::split_on(seg, ',');
    if (f.size() != 7 && f.size() != 9) throw ParseError(key + " segment '" + seg + "' has " + std::to_string(f.size()) + " fields (7 or 9 expected)");
    std::int64_t c, m, k, n, idx = 0;
    if (!detail::parse_int(f[1], c) || !detail::parse_int(f[2], m) || !detail::parse_int(f[3], k) || !detail::parse_int(f[5], n))
      throw ParseError(key + " segment '" + seg + "' has a bad number");
    if (f[6] != "true" && f[6] != "false") throw ParseError(key + " segment '" + seg + "' has a bad health field");
    HamiNodeDevice x{f[0], static_cast<int>(out.size()), static_cast<std::int32_t>(c), static_cast<std::int32_t>(m),
                     static_cast<std::int32_t>(k), f[4], static_cast<int>(n), f[6] == "true", "hami-core"};
    if (f.size() == 9) {
      if (!detail::parse_int(f[7], idx) || idx < 0) throw ParseError(key + " segment '" + seg + "' has a bad index");
      x.index = static_cast<int>(idx);
      x.mode = f[8];
    }
    out.push_back(x);
  }
  return out;
}

}  // namespace k8s
}  // namespace gpushare
