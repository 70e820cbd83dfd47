// gpushare/k8s/pod.hpp — core/v1 Pod JSON to a gpushare Request, per resource dialect.  Needs
// nlohmann_json (not included by the umbrella header gpushare.hpp).
//
// Dialects: aliyun.com/gpu-mem (GiB by default, MiB option), tencent.com/vcuda-core (100 = one
// GPU) with tencent.com/vcuda-memory (256 MiB units), HAMi's nvidia.com/gpu with nvidia.com/gpumem
// (MiB), nvidia.com/gpumem-percentage and nvidia.com/gpucores (percent), and plain nvidia.com/gpu
// (whole GPUs).  A container's amount is its limit, or its request when no limit is given.
// The pod's effective request follows Kubernetes: containers summed, init containers as a max.
//
// @code
//   auto pod = nlohmann::json::parse(text);
//   gpushare::k8s::PodRequest pr = gpushare::k8s::pod_request(pod, gpushare::k8s::Dialect::Aliyun);
//   pr.request.gpu.mib;            // whole-pod memory on one GPU, in MiB
//   pr.containers[0].demand;       // per-container split
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/io/json_number.hpp"
#include "gpushare/model/errors.hpp"
#include "gpushare/model/limits.hpp"
#include "gpushare/model/request.hpp"
#include "gpushare/k8s/quantity.hpp"

namespace gpushare {
namespace k8s {

/// @brief The resource names a pod uses to ask for GPUs.
enum class Dialect {
  Aliyun,   ///< aliyun.com/gpu-mem (+ aliyun.com/gpu-count on nodes)
  Tencent,  ///< tencent.com/vcuda-core + tencent.com/vcuda-memory
  Hami,     ///< nvidia.com/gpu + nvidia.com/gpumem / gpumem-percentage / gpucores
  Nvidia,   ///< plain nvidia.com/gpu whole GPUs
};

/// @brief Parses "aliyun", "tencent", "hami" or "nvidia"; throws InvalidArgument otherwise.
inline Dialect parse_dialect(const std::string& s) {
  if (s == "aliyun") return Dialect::Aliyun;
  if (s == "tencent") return Dialect::Tencent;
  if (s == "hami") return Dialect::Hami;
  if (s == "nvidia") return Dialect::Nvidia;
  throw InvalidArgument("dialect: unknown dialect '" + s + "' (expected aliyun, tencent, hami or nvidia)");
}

/// @brief Lowercase name of a dialect.
inline std::string to_string(Dialect d) {
  switch (d) {
    case Dialect::Aliyun: return "aliyun";
    case Dialect::Tencent: return "tencent";
    case Dialect::Hami: return "hami";
    case Dialect::Nvidia: return "nvidia";
  }
  return "?";
}

/// @brief Unit and default options of the dialects.
struct DialectOptions {
  bool aliyun_mib = false;           ///< aliyun.com/gpu-mem counts MiB instead of GiB
  std::int64_t hami_default_mem = 0;    ///< HAMi default gpumem (MiB) when none is given; 0 = whole card
  std::int64_t hami_default_cores = 0;  ///< HAMi default gpucores (percent)
};

/// @brief One container's GPU ask, in the dialect's raw units and as a GpuDemand.
struct ContainerRequest {
  std::string name;
  bool init = false;
  std::int64_t raw_mem = 0;       ///< aliyun gpu-mem units / tencent vcuda-memory units / HAMi gpumem MiB
  std::int64_t raw_cores = 0;     ///< tencent vcuda-core / HAMi gpucores percent
  std::int64_t raw_count = 0;     ///< nvidia.com/gpu
  std::int64_t mem_percentage = 0;  ///< HAMi gpumem-percentage (0 = not set)
  GpuDemand demand;               ///< in gpushare units
};

/// @brief A pod's GPU request: the per-container split and the effective whole-pod Request.
struct PodRequest {
  std::string name;  ///< namespace/name
  Dialect dialect = Dialect::Nvidia;
  std::vector<ContainerRequest> containers;  ///< init containers first, then app containers
  Request request;                           ///< effective request (name, cpu, memory, gpu, models)
  bool wants_gpu() const { return request.gpu.count > 0; }
};

namespace detail {

inline const nlohmann::json& require(const nlohmann::json& obj, const char* key, const std::string& what) {
  if (!obj.is_object() || !obj.contains(key)) throw ParseError(what + ": missing field '" + key + "'");
  return obj.at(key);
}

/// Quantity from a JSON string or number.
inline Quantity quantity_from_json(const nlohmann::json& v, const std::string& what) {
  if (v.is_string()) return parse_quantity(v.get<std::string>(), what);
  if (v.is_number_unsigned()) return parse_quantity(std::to_string(v.get<std::uint64_t>()), what);
  if (v.is_number_integer()) return parse_quantity(std::to_string(v.get<long long>()), what);
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!(d > -9e18 && d < 9e18)) throw InvalidArgument(what + ": impossible quantity");
    Quantity q;
    q.nano = static_cast<i128>(std::ceil(d * 1e9));
    return q;
  }
  throw ParseError(what + ": quantity must be a string or number, got " + std::string(v.type_name()));
}

/// Integer amount of `key` in a container (limits first, then requests); 0 if absent.
/// Fractions and negatives are impossible for extended resources and rejected.
inline std::int64_t container_amount(const nlohmann::json& c, const std::string& key, const std::string& what,
                                     bool* present = nullptr) {
  if (present) *present = false;
  if (!c.contains("resources")) return 0;
  const auto& res = c.at("resources");
  if (!res.is_object()) throw ParseError(what + ".resources: must be an object");
  for (const char* part : {"limits", "requests"}) {
    if (!res.contains(part)) continue;
    const auto& m = res.at(part);
    if (!m.is_object()) throw ParseError(what + ".resources." + part + ": must be an object");
    if (!m.contains(key)) continue;
    const std::string field = what + ".resources." + part + "[" + key + "]";
    Quantity q = quantity_from_json(m.at(key), field);
    if (q.negative()) throw InvalidArgument(field + ": negative quantity");
    if (!q.is_integer()) throw InvalidArgument(field + ": extended resources must be whole numbers");
    if (present) *present = true;
    return q.value();
  }
  return 0;
}

/// CPU milli-cores or memory bytes of a container (requests first, then limits, as the scheduler).
inline std::int64_t container_std(const nlohmann::json& c, const std::string& key, const std::string& what,
                                  bool milli) {
  if (!c.contains("resources") || !c.at("resources").is_object()) return 0;
  const auto& res = c.at("resources");
  for (const char* part : {"requests", "limits"}) {
    if (!res.contains(part) || !res.at(part).is_object() || !res.at(part).contains(key)) continue;
    const std::string field = what + ".resources." + part + "[" + key + "]";
    Quantity q = quantity_from_json(res.at(part).at(key), field);
    if (q.negative()) throw InvalidArgument(field + ": negative quantity");
    return milli ? q.milli_value() : q.value();
  }
  return 0;
}

inline std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",") {
    if (ch == ',') {
      auto b = cur.find_first_not_of(" \t"), e = cur.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

/// `v * factor`, refused (naming the resource) when the product would pass `limit`: raw
/// extended-resource amounts go up to 2^63 - 1, so the multiplication itself could overflow.
inline std::int64_t scaled(std::int64_t v, std::int64_t factor, std::int64_t limit, const std::string& what,
                           const char* resource) {
  if (v > limit / factor)
    throw InvalidArgument(what + ": " + resource + " " + std::to_string(v) + " is impossibly large");
  return v * factor;
}

/// A GPU count read from a raw amount, refused above 64 before it is narrowed to int.
inline int gpu_count(std::int64_t v, const std::string& what) {
  if (v > 64) throw InvalidArgument(what + ": impossible GPU count " + std::to_string(v));
  return static_cast<int>(v);
}

inline GpuDemand demand_of(Dialect d, ContainerRequest& c, const DialectOptions& o, const std::string& what) {
  constexpr std::int64_t max_mib = limits::max_mib_per_gpu, max_milli = limits::max_milli_per_gpu;
  GpuDemand g;
  switch (d) {
    case Dialect::Aliyun:
      if (c.raw_mem > 0) g = {1, 0, scaled(c.raw_mem, o.aliyun_mib ? 1 : 1024, max_mib, what, "aliyun.com/gpu-mem")};
      break;
    case Dialect::Tencent:
      if (c.raw_cores >= 100) {
        g = {gpu_count(c.raw_cores / 100, what), 1000, scaled(c.raw_mem, 256, max_mib, what, "tencent.com/vcuda-memory")};
      } else if (c.raw_cores > 0 && c.raw_mem > 0) {
        g = {1, c.raw_cores * 10, scaled(c.raw_mem, 256, max_mib, what, "tencent.com/vcuda-memory")};
      }
      break;
    case Dialect::Hami:
      if (c.raw_count > 0) {
        if (c.raw_cores > 100) throw InvalidArgument(what + ": nvidia.com/gpucores above 100");
        if (c.mem_percentage > 100) throw InvalidArgument(what + ": nvidia.com/gpumem-percentage above 100");
        std::int64_t mem = c.raw_mem;
        if (mem == 0 && c.mem_percentage == 0) mem = o.hami_default_mem;
        std::int64_t cores = c.raw_cores > 0 ? c.raw_cores : o.hami_default_cores;
        g = {gpu_count(c.raw_count, what), scaled(cores, 10, max_milli, what, "nvidia.com/gpucores"), mem};
        if (g.milli == 0 && g.mib == 0) g.milli = 1;  // whole-card memory share: mark the demand non-empty
      }
      break;
    case Dialect::Nvidia:
      if (c.raw_count > 0) g = {gpu_count(c.raw_count, what), 1000, 0};
      break;
  }
  if (g.count > 64) throw InvalidArgument(what + ": impossible GPU count " + std::to_string(g.count));
  return g;
}

}  // namespace detail

/// @brief Parses one container object of a pod spec.
inline ContainerRequest container_request(const nlohmann::json& c, Dialect d, const DialectOptions& o,
                                          const std::string& what, bool init = false) {
  if (!c.is_object()) throw ParseError(what + ": container must be an object");
  ContainerRequest r;
  r.init = init;
  if (c.contains("name")) {
    if (!c.at("name").is_string()) throw ParseError(what + ".name: must be a string");
    r.name = c.at("name").get<std::string>();
  }
  using detail::container_amount;
  switch (d) {
    case Dialect::Aliyun:
      r.raw_mem = container_amount(c, "aliyun.com/gpu-mem", what);
      break;
    case Dialect::Tencent:
      r.raw_cores = container_amount(c, "tencent.com/vcuda-core", what);
      r.raw_mem = container_amount(c, "tencent.com/vcuda-memory", what);
      break;
    case Dialect::Hami:
      r.raw_count = container_amount(c, "nvidia.com/gpu", what);
      r.raw_mem = container_amount(c, "nvidia.com/gpumem", what);
      r.raw_cores = container_amount(c, "nvidia.com/gpucores", what);
      r.mem_percentage = container_amount(c, "nvidia.com/gpumem-percentage", what);
      break;
    case Dialect::Nvidia:
      r.raw_count = container_amount(c, "nvidia.com/gpu", what);
      break;
  }
  r.demand = detail::demand_of(d, r, o, what);
  return r;
}

/// @brief Parses a core/v1 Pod into its GPU request in dialect `d`.  Throws ParseError /
/// InvalidArgument naming the pod and the field for missing fields, wrong types and impossible
/// quantities.  Model constraints come from nvidia.com/use-gputype / nouse-gputype annotations.
inline PodRequest pod_request(const nlohmann::json& pod, Dialect d, const DialectOptions& o = {}) {
  if (!pod.is_object()) throw ParseError("pod: must be a JSON object");
  const auto& meta = detail::require(pod, "metadata", "pod");
  if (!meta.is_object()) throw ParseError("pod: metadata must be an object");
  const auto& name_j = detail::require(meta, "name", "pod metadata");
  if (!name_j.is_string()) throw ParseError("pod: metadata.name must be a string");
  std::string ns = "default";
  if (meta.contains("namespace")) {
    if (!meta.at("namespace").is_string()) throw ParseError("pod " + name_j.get<std::string>() + ": metadata.namespace must be a string");
    ns = meta.at("namespace").get<std::string>();
  }
  PodRequest pr;
  pr.dialect = d;
  pr.name = ns + "/" + name_j.get<std::string>();
  const std::string what = "pod " + pr.name;
  const auto& spec = detail::require(pod, "spec", what);
  if (!spec.is_object()) throw ParseError(what + ": spec must be an object");
  const auto& cs = detail::require(spec, "containers", what + " spec");
  if (!cs.is_array()) throw ParseError(what + ": spec.containers must be an array");

  Request& req = pr.request;
  req.name = pr.name;
  req.tenant = ns;
  // init containers: max; app containers: sum
  std::int64_t init_cpu = 0, init_mem = 0;
  GpuDemand init_gpu;
  if (spec.contains("initContainers")) {
    const auto& ics = spec.at("initContainers");
    if (!ics.is_array()) throw ParseError(what + ": spec.initContainers must be an array");
    for (std::size_t i = 0; i < ics.size(); ++i) {
      const std::string cw = what + ": spec.initContainers[" + std::to_string(i) + "]";
      auto c = container_request(ics[i], d, o, cw, true);
      init_cpu = std::max(init_cpu, detail::container_std(ics[i], "cpu", cw, true));
      init_mem = std::max(init_mem, detail::container_std(ics[i], "memory", cw, false));
      auto tot = [](const GpuDemand& g) { return static_cast<std::int64_t>(g.count) * (g.milli + g.mib); };
      if (tot(c.demand) > tot(init_gpu)) init_gpu = c.demand;
      pr.containers.push_back(c);
    }
  }
  std::int64_t cpu = 0, mem = 0;
  GpuDemand app;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const std::string cw = what + ": spec.containers[" + std::to_string(i) + "]";
    auto c = container_request(cs[i], d, o, cw, false);
    cpu += detail::container_std(cs[i], "cpu", cw, true);
    mem += detail::container_std(cs[i], "memory", cw, false);
    const GpuDemand& g = c.demand;
    if (g.count > 0) {
      if (d == Dialect::Aliyun) {
        // the whole pod shares one GPU: memory adds up
        app = {1, 0, app.mib + g.mib};
      } else if (app.count == 0) {
        app = g;
      } else if (d == Dialect::Nvidia || (d == Dialect::Tencent && g.milli == 1000 && app.milli == 1000)) {
        app.count += g.count;
        app.mib = std::max(app.mib, g.mib);
      } else {
        // several sharing containers: the effective request is the largest per-GPU ask and the
        // total number of devices; the exact split is in `containers`.
        app.count += g.count;
        app.milli = std::max(app.milli, g.milli);
        app.mib = std::max(app.mib, g.mib);
      }
    }
    pr.containers.push_back(c);
  }
  req.cpu_milli = std::max(cpu, init_cpu);
  req.host_mib = (std::max(mem, init_mem) + (1 << 20) - 1) >> 20;
  auto total = [](const GpuDemand& g) { return static_cast<std::int64_t>(g.count) * std::max(g.milli, std::int64_t(1)) + g.mib; };
  req.gpu = total(init_gpu) > total(app) ? init_gpu : app;
  if (req.gpu.milli > 1000) req.gpu.milli = 1000;

  if (meta.contains("annotations")) {
    const auto& an = meta.at("annotations");
    if (!an.is_object()) throw ParseError(what + ": metadata.annotations must be an object");
    for (const auto& kv : an.items()) {
      if (!kv.value().is_string()) throw ParseError(what + ": metadata.annotations[" + kv.key() + "] must be a string");
    }
    if (an.contains("nvidia.com/use-gputype")) req.allowed_models = detail::split_csv(an.at("nvidia.com/use-gputype").get<std::string>());
    if (an.contains("nvidia.com/nouse-gputype")) req.denied_models = detail::split_csv(an.at("nvidia.com/nouse-gputype").get<std::string>());
  }
  if (spec.contains("priority") && spec.at("priority").is_number())  // Kubernetes: int32
    req.priority = static_cast<int>(io::json_integer(spec.at("priority"), what + ": spec.priority", -2147483648LL, 2147483647LL));
  return pr;
}

}  // namespace k8s
}  // namespace gpushare
