// A stand-in libnvidia-ml.so.1 for the device plugin's tests (no GPU on the test machines): the
// NVML C functions gpushare's node/nvml.hpp resolves, with NVML's signatures and return codes
// (0 success, 10 NVML_ERROR_TIMEOUT, 15 NVML_ERROR_GPU_IS_LOST).  Two GPUs of 16 GiB.
// GPUSHARE_FAKE_NVML_WAIT selects what nvmlEventSetWait_v2 does:
//   unset / "timeout"  sleeps the timeout and returns NVML_ERROR_TIMEOUT (no event);
//   "lost"             returns NVML_ERROR_GPU_IS_LOST at once, every call (a GPU fell off the bus);
// GPUSHARE_FAKE_NVML_WAIT_LOG, when set, is a file that gets one line per wait call.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {

struct Memory { unsigned long long total, free, used; };
struct PciInfo { char bus_id_legacy[16]; unsigned domain, bus, device, pci_device_id, pci_subsystem_id; char bus_id[32]; };
struct EventData { void* device; unsigned long long type, data; unsigned gi, ci; };

static int devs[2];

int nvmlInit_v2(void) { return 0; }
int nvmlShutdown(void) { return 0; }
int nvmlDeviceGetCount_v2(unsigned* n) { *n = 2; return 0; }
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** d) {
  if (i >= 2) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *d = &devs[i];
  return 0;
}
static int index_of(void* d) { return d == &devs[1] ? 1 : 0; }
int nvmlDeviceGetUUID(void* d, char* buf, unsigned len) {
  snprintf(buf, len, "GPU-fa4e0000-0000-0000-0000-00000000000%d", index_of(d));
  return 0;
}
int nvmlDeviceGetName(void* d, char* buf, unsigned len) { (void)d; snprintf(buf, len, "Stand-in GPU 16GB"); return 0; }
int nvmlDeviceGetMemoryInfo(void* d, Memory* m) { (void)d; m->total = 16ULL << 30; m->free = m->total; m->used = 0; return 0; }
int nvmlDeviceGetPciInfo_v3(void* d, PciInfo* p) {
  memset(p, 0, sizeof *p);
  snprintf(p->bus_id, sizeof p->bus_id, "00000000:0%d:00.0", index_of(d) + 1);
  return 0;
}
int nvmlDeviceGetTopologyCommonAncestor(void* a, void* b, int* level) { (void)a; (void)b; *level = 30; return 0; }
int nvmlDeviceGetNvLinkState(void* d, unsigned link, int* active) { (void)d; (void)link; *active = 0; return 0; }
int nvmlDeviceGetNvLinkRemotePciInfo_v2(void* d, unsigned link, PciInfo* p) { (void)d; (void)link; (void)p; return 3; }
int nvmlEventSetCreate(void** set) { static int s; *set = &s; return 0; }
int nvmlDeviceRegisterEvents(void* d, unsigned long long types, void* set) { (void)d; (void)types; (void)set; return 0; }
int nvmlEventSetWait_v2(void* set, EventData* e, unsigned timeout_ms) {
  (void)set; (void)e;
  const char* log = getenv("GPUSHARE_FAKE_NVML_WAIT_LOG");
  if (log) {
    FILE* f = fopen(log, "a");
    if (f) { fputs("wait\n", f); fclose(f); }
  }
  const char* mode = getenv("GPUSHARE_FAKE_NVML_WAIT");
  if (mode && strcmp(mode, "lost") == 0) return 15;
  usleep(timeout_ms * 1000u);
  return 10;
}
int nvmlEventSetFree(void* set) { (void)set; return 0; }
}  // extern "C"
