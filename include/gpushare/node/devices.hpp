// gpushare/node/devices.hpp — what the device plugin advertises and how it answers for whole
// GPUs, free of gRPC (the program in examples/device_plugin wraps these in the kubelet's API).
//
//   aliyun.com/gpu-mem    one device per memory unit of each GPU, ID "<uuid>-_-<k>" (GiB units by
//                         default, MiB with the option), Unhealthy when its GPU is
//   aliyun.com/gpu-count  one device per GPU, ID = UUID (capacity only: Allocate refuses it)
//   nvidia.com/gpu        one device per GPU, ID = UUID; GetPreferredAllocation answers with the
//                         `nvidia` mode's set (go-gpuallocator BestEffort, modes/nvidia/besteffort.hpp);
//                         Allocate returns NVIDIA_VISIBLE_DEVICES = the UUIDs the kubelet chose
//
// @code
//   auto devs = gpushare::node::advertised_devices(inv, gpushare::node::Resource::AliyunMem, false);
//   auto ids = gpushare::node::nvidia_preferred(inv, {"GPU-a", "GPU-b", "GPU-c"}, {}, 2);
//   auto env = gpushare::node::nvidia_allocate(inv, {"GPU-b"});   // env["NVIDIA_VISIBLE_DEVICES"] == "GPU-b"
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/node/gpus.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"
#include "gpushare/solve/topology_set.hpp"

namespace gpushare {
namespace node {

/// @brief A transient failure (API server unreachable, patch refused), reported as UNAVAILABLE.
/// The kubelet does not retry Allocate: the pod fails admission (UnexpectedAdmissionError).
class Unavailable : public Error {
 public:
  explicit Unavailable(const std::string& m) : Error(ErrorKind::conflict, m) {}
};

/// @brief The extended resources this plugin can serve.
enum class Resource { AliyunMem, AliyunCount, NvidiaGpu };

/// @brief The resource name the kubelet advertises.
inline const char* resource_name(Resource r) {
  switch (r) {
    case Resource::AliyunMem: return "aliyun.com/gpu-mem";
    case Resource::AliyunCount: return "aliyun.com/gpu-count";
    case Resource::NvidiaGpu: return "nvidia.com/gpu";
  }
  return "?";
}

/// @brief Socket file name of a resource's endpoint in the device-plugin directory.
inline std::string socket_name(Resource r) {
  switch (r) {
    case Resource::AliyunMem: return "gpushare-aliyun-gpu-mem.sock";
    case Resource::AliyunCount: return "gpushare-aliyun-gpu-count.sock";
    case Resource::NvidiaGpu: return "gpushare-nvidia-gpu.sock";
  }
  return "gpushare.sock";
}

/// @brief One advertised device.
struct Device {
  std::string id;
  bool healthy = true;
  int numa = -1;
  friend bool operator==(const Device& a, const Device& b) { return a.id == b.id && a.healthy == b.healthy && a.numa == b.numa; }
};

/// @brief Memory units of a GPU in the aliyun.com/gpu-mem unit (floor(MiB / 1024) in GiB mode).
inline std::int64_t gpu_mem_units(const NodeGpu& g, bool mib_unit) { return mib_unit ? g.mib : g.mib / 1024; }

/// @brief ID of the k-th memory unit of a GPU.
inline std::string mem_device_id(const std::string& uuid, std::int64_t k) { return uuid + "-_-" + std::to_string(k); }

/// @brief The GPU index a gpu-mem device ID belongs to; throws InvalidArgument naming the ID when
/// it is not one this inventory advertises.
inline int gpu_of_mem_device(const GpuInventory& inv, const std::string& id, bool mib_unit) {
  const auto sep = id.rfind("-_-");
  if (sep != std::string::npos) {
    const int g = inv.find_uuid(id.substr(0, sep));
    const std::string k = id.substr(sep + 3);
    if (g >= 0 && !k.empty() && k.size() < 12 && std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        (k == "0" || k[0] != '0') && std::stoll(k) < gpu_mem_units(inv.gpus[static_cast<std::size_t>(g)], mib_unit))
      return g;
  }
  throw InvalidArgument("device ID '" + id + "' is not an aliyun.com/gpu-mem device of this node");
}

/// @brief The device list of a resource, in GPU order.
inline std::vector<Device> advertised_devices(const GpuInventory& inv, Resource r, bool mib_unit) {
  std::vector<Device> out;
  for (const auto& g : inv.gpus) {
    if (r == Resource::AliyunMem) {
      const std::int64_t n = gpu_mem_units(g, mib_unit);
      for (std::int64_t k = 0; k < n; ++k) out.push_back({mem_device_id(g.uuid, k), g.healthy, g.numa});
    } else {
      out.push_back({g.uuid, g.healthy, g.numa});
    }
  }
  return out;
}

namespace detail {
/// GPU indices of whole-GPU device IDs; throws InvalidArgument naming `field` and the ID.
inline std::vector<int> gpu_indices(const GpuInventory& inv, const std::vector<std::string>& ids, const std::string& field) {
  std::vector<int> out;
  std::set<std::string> seen;
  for (const auto& id : ids) {
    const int g = inv.find_uuid(id);
    if (g < 0) throw InvalidArgument(field + ": device ID '" + id + "' is not a GPU of this node");
    if (!seen.insert(id).second) throw InvalidArgument(field + ": device ID '" + id + "' listed twice");
    out.push_back(g);
  }
  return out;
}
inline std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}
}  // namespace detail

/// @brief Preferred-allocation policy of the nvidia dialect.
enum class PreferPolicy {
  BestEffort,   ///< the `nvidia` mode: go-gpuallocator BestEffort (what NVIDIA's plugin answers)
  TopologySet,  ///< gpushare's exact best set (solve/topology_set.hpp), keeping well-linked GPUs for later
};

/// @brief GetPreferredAllocation for whole GPUs: `size` of `available` (all of `must_include`),
/// as UUIDs in index order.  Throws InvalidArgument for unknown or repeated IDs, must-include IDs
/// not available, and sizes that cannot be met.
inline std::vector<std::string> nvidia_preferred(const GpuInventory& inv, const std::vector<std::string>& available,
                                                 const std::vector<std::string>& must_include, int size,
                                                 PreferPolicy policy = PreferPolicy::BestEffort) {
  const std::vector<int> avail = detail::gpu_indices(inv, available, "available_deviceIDs");
  const std::vector<int> req = detail::gpu_indices(inv, must_include, "must_include_deviceIDs");
  for (std::size_t i = 0; i < req.size(); ++i)
    if (std::find(avail.begin(), avail.end(), req[i]) == avail.end())
      throw InvalidArgument("must_include_deviceIDs: '" + must_include[i] + "' is not among available_deviceIDs");
  if (size <= 0 || size > static_cast<int>(avail.size()) || static_cast<int>(req.size()) > size)
    throw InvalidArgument("allocation_size " + std::to_string(size) + " cannot be met from " + std::to_string(avail.size()) +
                          " available devices with " + std::to_string(req.size()) + " required");
  std::vector<int> chosen;
  if (policy == PreferPolicy::BestEffort) {
    chosen = nvidia_besteffort(inv.topology, avail, req, size);
  } else {
    TopologySetOptions o;
    o.leave_best_for_later = true;
    chosen = best_gpu_set(inv.topology, avail, size, req, o).gpus;
  }
  if (static_cast<int>(chosen.size()) != size)
    throw InvalidArgument("allocation_size " + std::to_string(size) + ": no set found among the available devices");
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::string> out;
  for (int g : chosen) out.push_back(inv.gpus[static_cast<std::size_t>(g)].uuid);
  return out;
}

/// @brief Allocate for whole GPUs: the container sees exactly these GPUs.  Throws
/// InvalidArgument for an empty list or unknown/repeated IDs, ConflictError when one of them is
/// unhealthy (nothing is recorded either way).
inline std::map<std::string, std::string> nvidia_allocate(const GpuInventory& inv, const std::vector<std::string>& ids) {
  if (ids.empty()) throw InvalidArgument("devices_ids: empty (the kubelet always sends at least one device)");
  std::vector<std::string> uuids;
  for (int g : detail::gpu_indices(inv, ids, "devices_ids")) {
    const NodeGpu& gpu = inv.gpus[static_cast<std::size_t>(g)];
    if (!gpu.healthy) throw ConflictError("devices_ids: GPU " + std::to_string(g) + " (" + gpu.uuid + ") is unhealthy");
    uuids.push_back(gpu.uuid);
  }
  return {{"NVIDIA_VISIBLE_DEVICES", detail::join(uuids, ",")}};
}

}  // namespace node
}  // namespace gpushare
