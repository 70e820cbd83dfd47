// gpushare/k8s/node.hpp — core/v1 Node JSON to a gpushare Node, per resource dialect.
//
// CPU and memory come from status.allocatable (else status.capacity).  GPUs per dialect:
// aliyun: aliyun.com/gpu-count GPUs of floor(gpu-mem / gpu-count) units each (GiB, or MiB with
// DialectOptions::aliyun_mib); tencent: vcuda-core / 100 GPUs with vcuda-memory / count x 256 MiB;
// hami: the hami.io/node-nvidia-register annotation (UUIDs, memory, model); nvidia: nvidia.com/gpu
// GPUs with memory from the label nvidia.com/gpu.memory (MiB) when present.  The GPU model comes
// from nvidia.com/gpu.product, tkestack.io/gpu-model or aliyun.accelerator/nvidia_name labels.
//
// @code
//   gpushare::k8s::K8sNode n = gpushare::k8s::node_from_json(obj, gpushare::k8s::Dialect::Aliyun);
//   n.node.gpus.size();   // aliyun.com/gpu-count
// @endcode
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/model/limits.hpp"
#include "gpushare/model/node.hpp"
#include "gpushare/k8s/annotations.hpp"
#include "gpushare/k8s/pod.hpp"

namespace gpushare {
namespace k8s {

/// @brief A parsed node: the model node plus what the dialect needs to map annotations back.
struct K8sNode {
  Node node;
  std::vector<std::string> uuids;    ///< per GPU (HAMi), else empty strings
  std::vector<std::int32_t> slots;   ///< HAMi time-slice count per GPU
  AnnotationMap annotations;
  std::int64_t aliyun_units_per_gpu = 0;  ///< aliyun: per-GPU gpu-mem units
};

/// @brief GPU model from node labels, "" if none.
inline std::string gpu_model_from_labels(const std::map<std::string, std::string>& labels) {
  for (const char* k : {"nvidia.com/gpu.product", "tkestack.io/gpu-model", "aliyun.accelerator/nvidia_name"}) {
    auto it = labels.find(k);
    if (it != labels.end() && !it->second.empty()) return it->second;
  }
  return "";
}

namespace detail {
inline std::int64_t node_amount(const nlohmann::json& status, const std::string& key, const std::string& what, bool milli,
                                bool* present = nullptr) {
  if (present) *present = false;
  for (const char* part : {"allocatable", "capacity"}) {
    if (!status.contains(part)) continue;
    const auto& m = status.at(part);
    if (!m.is_object()) throw ParseError(what + ": status." + part + " must be an object");
    if (!m.contains(key)) continue;
    const std::string field = what + ": status." + part + "[" + key + "]";
    Quantity q = quantity_from_json(m.at(key), field);
    if (q.negative()) throw InvalidArgument(field + ": negative quantity");
    if (present) *present = true;
    return milli ? q.milli_value() : q.value();
  }
  return 0;
}
inline std::map<std::string, std::string> string_map(const nlohmann::json& meta, const char* key, const std::string& what) {
  std::map<std::string, std::string> out;
  if (!meta.contains(key)) return out;
  const auto& m = meta.at(key);
  if (m.is_null()) return out;
  if (!m.is_object()) throw ParseError(what + ": metadata." + key + " must be an object");
  for (const auto& kv : m.items()) {
    if (!kv.value().is_string()) throw ParseError(what + ": metadata." + key + "[" + kv.key() + "] must be a string");
    out[kv.key()] = kv.value().get<std::string>();
  }
  return out;
}
}  // namespace detail

/// @brief Parses a core/v1 Node in dialect `d`; throws ParseError / InvalidArgument naming the
/// node and the field.
inline K8sNode node_from_json(const nlohmann::json& obj, Dialect d, const DialectOptions& o = {}) {
  if (!obj.is_object()) throw ParseError("node: must be a JSON object");
  const auto& meta = detail::require(obj, "metadata", "node");
  if (!meta.is_object() || !meta.contains("name") || !meta.at("name").is_string())
    throw ParseError("node: missing string field metadata.name");
  K8sNode k;
  Node& n = k.node;
  n.name = meta.at("name").get<std::string>();
  const std::string what = "node " + n.name;
  n.labels = detail::string_map(meta, "labels", what);
  k.annotations = detail::string_map(meta, "annotations", what);
  nlohmann::json status = obj.contains("status") ? obj.at("status") : nlohmann::json::object();
  if (!status.is_object()) throw ParseError(what + ": status must be an object");
  n.cpu_milli = detail::node_amount(status, "cpu", what, true);
  n.host_mib = detail::node_amount(status, "memory", what, false) >> 20;
  const std::string model = gpu_model_from_labels(n.labels);
  // `count` GPUs of `units` memory units each, `unit_mib` MiB per unit; checked before any
  // narrowing or multiplication (a quantity like 1Ei would overflow).
  auto add = [&](std::int64_t count, std::int64_t units, std::int64_t unit_mib) {
    if (count < 0 || count > limits::max_gpus_per_node) throw InvalidArgument(what + ": impossible GPU count " + std::to_string(count));
    if (units < 0 || units > limits::max_mib_per_gpu / unit_mib)
      throw InvalidArgument(what + ": impossible GPU memory (" + std::to_string(units) + " x " + std::to_string(unit_mib) +
                            " MiB per GPU, at most " + std::to_string(limits::max_mib_per_gpu) + " MiB)");
    const std::int64_t mib = units * unit_mib;
    for (int i = 0; i < static_cast<int>(count); ++i) {
      n.gpus.push_back({i, model, 1000, mib, true, -1});
      k.uuids.push_back("");
      k.slots.push_back(1);
    }
  };
  switch (d) {
    case Dialect::Aliyun: {
      bool has_mem = false;
      const std::int64_t mem = detail::node_amount(status, "aliyun.com/gpu-mem", what, false, &has_mem);
      const std::int64_t count = detail::node_amount(status, "aliyun.com/gpu-count", what, false);
      if (has_mem && mem > 0 && count <= 0)
        throw InvalidArgument(what + ": has aliyun.com/gpu-mem but no aliyun.com/gpu-count");
      if (count > 0) {
        k.aliyun_units_per_gpu = mem / count;
        add(count, k.aliyun_units_per_gpu, o.aliyun_mib ? 1 : 1024);
      }
      break;
    }
    case Dialect::Tencent: {
      const std::int64_t cores = detail::node_amount(status, "tencent.com/vcuda-core", what, false);
      const std::int64_t mem = detail::node_amount(status, "tencent.com/vcuda-memory", what, false);
      const std::int64_t count = cores / 100;
      if (count > 0) add(count, mem / count, 256);
      break;
    }
    case Dialect::Hami: {
      auto it = k.annotations.find(kHamiRegister);
      if (it != k.annotations.end()) {
        auto devs = decode_hami_node_register(it->second, what);
        for (std::size_t i = 0; i < devs.size(); ++i) {
          const auto& x = devs[i];
          n.gpus.push_back({static_cast<int>(i), x.type, 1000, x.devmem, x.health, x.numa});
          k.uuids.push_back(x.id);
          k.slots.push_back(x.count);
        }
      }
      break;
    }
    case Dialect::Nvidia: {
      const std::int64_t count = detail::node_amount(status, "nvidia.com/gpu", what, false);
      std::int64_t mib = 0;
      auto it = n.labels.find("nvidia.com/gpu.memory");
      if (it != n.labels.end() && !detail::parse_int(it->second, mib))
        throw ParseError(what + ": label nvidia.com/gpu.memory='" + it->second + "' is not an integer");
      add(count, mib, 1);
      break;
    }
  }
  validate(n);
  return k;
}

}  // namespace k8s
}  // namespace gpushare
