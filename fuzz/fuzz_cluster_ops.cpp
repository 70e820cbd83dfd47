// Fuzzes Cluster with arbitrary operation sequences decoded from the input bytes: add nodes,
// schedule/allocate with every policy, allocate arbitrary (often invalid) placements, release,
// toggle GPU health.  After every step the usage must be within capacity and equal to a
// recomputation from the live allocations; a throwing call must leave the state unchanged.
#include <gpushare/gpushare.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>

#include "../tests/cpp/helpers.hpp"  // gstest::recompute, the independent usage oracle

namespace {

struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t next() {
    if (!n) return 0;
    --n;
    return *p++;
  }
  std::int64_t signed_small() { return static_cast<std::int64_t>(static_cast<std::int8_t>(next())); }
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check(const gpushare::Cluster& c) {
  const auto s = c.snapshot();
  if (s != gstest::recompute(c)) fail("usage differs from recomputation");
  for (std::int64_t v : s.gpu_free_milli)
    if (v < 0) fail("negative free milli");
  for (std::int64_t v : s.gpu_free_mib)
    if (v < 0) fail("negative free MiB");
  for (std::int64_t v : s.node_free_cpu_milli)
    if (v < 0) fail("negative free CPU");
  for (std::int64_t v : s.node_free_host_mib)
    if (v < 0) fail("negative free host memory");
}

gpushare::Request request(Bytes& b, int k) {
  gpushare::Request r;
  r.name = "r" + std::to_string(k % 16);
  r.cpu_milli = b.signed_small() * 500;
  r.host_mib = b.signed_small() * 1024;
  r.gpu.count = static_cast<int>(b.signed_small() % 10);
  r.gpu.milli = b.signed_small() * 10;
  r.gpu.mib = b.signed_small() * 256;
  if (b.next() % 4 == 0) r.allowed_models = {"T4"};
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Bytes b{data, size};
  gpushare::Cluster c;
  for (int step = 0; b.n && step < 256; ++step) {
    const auto before = c.snapshot();
    const std::size_t live = c.allocation_count();
    try {
      switch (b.next() % 6) {
        case 0: {
          gpushare::Node n{"n" + std::to_string(b.next() % 8), b.signed_small() * 1000, b.signed_small() * 4096, {}, {}};
          const int g = b.next() % 9;
          for (int i = 0; i < g; ++i) n.gpus.push_back({i, (b.next() & 1) ? "T4" : "A100", 1000, b.signed_small() * 1024});
          c.add_node(n);
          break;
        }
        case 1: {
          gpushare::AnyPolicy p = gpushare::make_policy(gpushare::policy_names()[b.next() % 5], b.next());
          auto res = gpushare::schedule(c, request(b, step), p);
          if (res) c.allocate(*res.placement);
          break;
        }
        case 2: {
          gpushare::Placement p;
          p.request = "r" + std::to_string(b.next() % 16);
          p.node_index = b.next() % 10;
          p.node = "n" + std::to_string(b.next() % 8);
          const int g = b.next() % 4;
          for (int i = 0; i < g; ++i) p.gpus.push_back(static_cast<int>(b.signed_small() % 9));
          p.milli_per_gpu = b.signed_small() * 10;
          p.mib_per_gpu = b.signed_small() * 256;
          p.cpu_milli = b.signed_small() * 500;
          p.host_mib = b.signed_small() * 1024;
          c.allocate(p);
          break;
        }
        case 3:
          c.release("r" + std::to_string(b.next() % 16));
          break;
        case 4:
          c.set_gpu_healthy(b.next() % 10, static_cast<int>(b.next() % 9), b.next() & 1);
          break;
        default: {
          const auto all = c.allocations();
          if (!all.empty()) c.release(all[b.next() % all.size()]);
          break;
        }
      }
    } catch (const gpushare::Error&) {
      if (c.snapshot() != before || c.allocation_count() != live) fail("a failed call changed the state");
    }
    check(c);
  }
  for (const auto& p : c.allocations()) c.release(p);
  if (c.free_gpu_milli() != c.total_gpu_milli()) fail("releasing everything did not restore the empty state");
  return 0;
}
