// gpushare/node/nvml.hpp — GPU discovery and XID health events through NVML, loaded at run time
// with dlopen("libnvidia-ml.so.1"): no link-time dependency, no NVIDIA header (the few types and
// constants used are declared here from NVML's public API).  On a machine without the NVIDIA
// driver, Nvml::open() returns nullptr and the caller falls back to nvidia-smi or --fake-gpus.
//
// NOT EXERCISED in gpushare's tests: the machines it is built and tested on have no GPU.  The code
// is kept small: index, UUID, memory, name, PCIe common ancestor, NVLink peers (by remote PCI bus
// ID), and critical-XID events.
//
// @code
//   if (auto nvml = gpushare::node::Nvml::open()) {
//     gpushare::node::GpuInventory inv = nvml->discover();
//     nvml->watch_xid(stop_flag, [&](int gpu, unsigned long long xid) { mark_unhealthy(gpu, xid); },
//                     [&](int rc) { mark_all_unhealthy(rc); });
//   }
// @endcode
#pragma once

#include <dlfcn.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/node/gpus.hpp"

namespace gpushare {
namespace node {

/// @brief The NVML functions the device plugin uses, resolved with dlsym.
class Nvml {
 public:
  using Dev = void*;
  struct Memory { unsigned long long total, free, used; };                       // nvmlMemory_t
  struct PciInfo { char bus_id_legacy[16]; unsigned domain, bus, device, pci_device_id, pci_subsystem_id; char bus_id[32]; };  // nvmlPciInfo_t
  struct EventData { Dev device; unsigned long long type, data; unsigned gi, ci; };  // nvmlEventData_t

  /// @brief Loads libnvidia-ml.so.1 and initialises NVML; nullptr when either fails.
  static std::unique_ptr<Nvml> open() {
    void* h = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) return nullptr;
    std::unique_ptr<Nvml> n(new Nvml(h));
    if (!n->resolve() || n->init_() != 0) return nullptr;
    n->initialised_ = true;
    return n;
  }
  ~Nvml() {
    if (initialised_) shutdown_();
    ::dlclose(handle_);
  }
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  /// @brief Every GPU with its index, UUID, memory, name, PCIe levels and NVLink counts.
  /// Throws Error naming the failing NVML call.
  GpuInventory discover() {
    unsigned n = 0;
    check(count_(&n), "nvmlDeviceGetCount_v2");
    GpuInventory inv;
    inv.source = "nvml";
    inv.topology = Topology(static_cast<int>(n));
    std::vector<std::string> bus(n);
    devs_.assign(n, nullptr);
    for (unsigned i = 0; i < n; ++i) {
      check(by_index_(i, &devs_[i]), "nvmlDeviceGetHandleByIndex_v2");
      NodeGpu g;
      g.index = static_cast<int>(i);
      char buf[96] = {0};
      check(uuid_(devs_[i], buf, sizeof buf), "nvmlDeviceGetUUID");
      g.uuid = buf;
      std::memset(buf, 0, sizeof buf);
      check(name_(devs_[i], buf, sizeof buf), "nvmlDeviceGetName");
      g.model = buf;
      Memory m{};
      check(memory_(devs_[i], &m), "nvmlDeviceGetMemoryInfo");
      g.mib = static_cast<std::int64_t>(m.total >> 20);
      PciInfo p{};
      if (pci_(devs_[i], &p) == 0) bus[i] = lower(p.bus_id);
      inv.gpus.push_back(g);
    }
    for (unsigned i = 0; i < n; ++i)
      for (unsigned j = i + 1; j < n; ++j) {
        int level = 0;
        PcieLevel l = PcieLevel::unknown;
        if (ancestor_(devs_[i], devs_[j], &level) == 0) l = level_of(level);
        inv.topology.set_link(static_cast<int>(i), static_cast<int>(j), l, 0);
      }
    for (unsigned i = 0; i < n; ++i)  // NVLink: count active links whose remote end is GPU j
      for (unsigned link = 0; link < 18; ++link) {
        int active = 0;
        PciInfo remote{};
        if (link_state_(devs_[i], link, &active) != 0 || !active || link_remote_(devs_[i], link, &remote) != 0) continue;
        const std::string rb = lower(remote.bus_id);
        for (unsigned j = 0; j < n; ++j)
          if (j != i && !bus[j].empty() && bus[j] == rb && i < j)
            inv.topology.set_link(static_cast<int>(i), static_cast<int>(j), inv.topology.pcie_level(static_cast<int>(i), static_cast<int>(j)),
                                  inv.topology.nvlink()(static_cast<int>(i), static_cast<int>(j)) + 1);
      }
    validate_inventory(inv, "nvml");
    return inv;
  }

  /// @brief Waits for critical-XID events until `stop`; calls `on_xid(gpu index, xid)` for each XID
  /// that is not an application error (13, 31, 43, 45, 68, 109 are ignored, as NVIDIA's plugin does).
  /// When the wait itself fails (any NVML error but a timeout, e.g. NVML_ERROR_GPU_IS_LOST), health
  /// can no longer be watched: `on_wait_error(rc)` is called (NVIDIA's plugin marks every GPU
  /// unhealthy then) and the wait is retried after a second, never in a busy loop.
  void watch_xid(const std::atomic<bool>& stop, const std::function<void(int, unsigned long long)>& on_xid,
                 const std::function<void(int)>& on_wait_error) {
    void* set = nullptr;
    if (set_create_(&set) != 0) return;
    for (Dev d : devs_) register_(d, 0x0000000000000008ULL /* nvmlEventTypeXidCriticalError */, set);
    while (!stop.load()) {
      EventData e{};
      const int rc = set_wait_(set, &e, 1000);
      if (rc == 10) continue;  // NVML_ERROR_TIMEOUT: no event, poll stop again
      if (rc != 0) {
        on_wait_error(rc);
        for (int i = 0; i < 10 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      const unsigned long long x = e.data;
      if (x == 13 || x == 31 || x == 43 || x == 45 || x == 68 || x == 109) continue;
      for (std::size_t i = 0; i < devs_.size(); ++i)
        if (devs_[i] == e.device) on_xid(static_cast<int>(i), x);
    }
    set_free_(set);
  }

 private:
  explicit Nvml(void* h) : handle_(h) {}
  template <class F>
  bool sym(F& f, const char* name) {
    f = reinterpret_cast<F>(::dlsym(handle_, name));
    return f != nullptr;
  }
  bool resolve() {
    return sym(init_, "nvmlInit_v2") && sym(shutdown_, "nvmlShutdown") && sym(count_, "nvmlDeviceGetCount_v2") &&
           sym(by_index_, "nvmlDeviceGetHandleByIndex_v2") && sym(uuid_, "nvmlDeviceGetUUID") && sym(name_, "nvmlDeviceGetName") &&
           sym(memory_, "nvmlDeviceGetMemoryInfo") && sym(pci_, "nvmlDeviceGetPciInfo_v3") &&
           sym(ancestor_, "nvmlDeviceGetTopologyCommonAncestor") && sym(link_state_, "nvmlDeviceGetNvLinkState") &&
           sym(link_remote_, "nvmlDeviceGetNvLinkRemotePciInfo_v2") && sym(set_create_, "nvmlEventSetCreate") &&
           sym(register_, "nvmlDeviceRegisterEvents") && sym(set_wait_, "nvmlEventSetWait_v2") && sym(set_free_, "nvmlEventSetFree");
  }
  static void check(int rc, const char* call) {
    if (rc != 0) throw Error(ErrorKind::not_found, std::string("nvml: ") + call + " returned " + std::to_string(rc));
  }
  static PcieLevel level_of(int nvml_level) {  // nvmlGpuTopologyLevel_t
    switch (nvml_level) {
      case 0: return PcieLevel::board;  // INTERNAL
      case 10: return PcieLevel::pix;   // SINGLE
      case 20: return PcieLevel::pxb;   // MULTIPLE
      case 30: return PcieLevel::phb;   // HOSTBRIDGE
      case 40: return PcieLevel::node;  // NODE
      case 50: return PcieLevel::sys;   // SYSTEM
      default: return PcieLevel::unknown;
    }
  }
  static std::string lower(const char* s) {
    std::string r(s);
    for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
  }

  void* handle_;
  bool initialised_ = false;
  std::vector<Dev> devs_;
  int (*init_)() = nullptr;
  int (*shutdown_)() = nullptr;
  int (*count_)(unsigned*) = nullptr;
  int (*by_index_)(unsigned, Dev*) = nullptr;
  int (*uuid_)(Dev, char*, unsigned) = nullptr;
  int (*name_)(Dev, char*, unsigned) = nullptr;
  int (*memory_)(Dev, Memory*) = nullptr;
  int (*pci_)(Dev, PciInfo*) = nullptr;
  int (*ancestor_)(Dev, Dev, int*) = nullptr;
  int (*link_state_)(Dev, unsigned, int*) = nullptr;
  int (*link_remote_)(Dev, unsigned, PciInfo*) = nullptr;
  int (*set_create_)(void**) = nullptr;
  int (*register_)(Dev, unsigned long long, void*) = nullptr;
  int (*set_wait_)(void*, EventData*, unsigned) = nullptr;
  int (*set_free_)(void*) = nullptr;
};

}  // namespace node
}  // namespace gpushare
