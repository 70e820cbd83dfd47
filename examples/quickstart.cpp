// quickstart — a small shared-GPU cluster, a few requests, their placements, and the
// explanation gpushare gives when a request fits nowhere.
//
// Build and run:  make demo   (or: cmake -S . -B build && cmake --build build && build/examples/quickstart)
#include <gpushare/gpushare.hpp>

#include <iostream>
#include <vector>

int main() {
  using namespace gpushare;

  // Two nodes: four 16 GiB T4s and two 32 GiB V100s.
  Cluster cluster;
  Node t4{"t4-node", 32000, 131072, {{"gpu", "T4"}}, {}};
  for (int i = 0; i < 4; ++i) t4.gpus.push_back({i, "T4", 1000, 16384});
  Node v100{"v100-node", 64000, 262144, {{"gpu", "V100"}}, {}};
  for (int i = 0; i < 2; ++i) v100.gpus.push_back({i, "V100M32", 1000, 32768});
  cluster.add_node(t4);
  cluster.add_node(v100);

  auto request = [](const char* name, std::int64_t cpu, int count, std::int64_t milli, std::int64_t mib) {
    Request r;
    r.name = name;
    r.cpu_milli = cpu;
    r.host_mib = 8192;
    r.gpu = {count, milli, mib};
    return r;
  };
  std::vector<Request> requests = {
      request("infer-a", 2000, 1, 250, 6144),   // a quarter of a GPU
      request("infer-b", 2000, 1, 250, 6144),   // best fit packs it next to infer-a
      request("train-c", 8000, 2, 1000, 32768), // two whole 32 GiB GPUs
      request("infer-d", 2000, 1, 500, 12288),
      request("infer-e", 2000, 1, 500, 12288),
      request("infer-f", 2000, 1, 500, 12288),
      request("big-g", 2000, 1, 500, 16384),    // 16 GiB free in total on t4-node, not on one GPU
  };

  for (const Request& r : requests) {
    ScheduleResult res = schedule(cluster, r, BestFit{});
    if (res) {
      cluster.allocate(*res.placement);
      std::cout << "placed  " << *res.placement << "\n";
    } else {
      std::cout << "FAILED  " << res.explain() << "\n";
    }
  }

  std::cout << "\nGPU usage after the requests above:\n";
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const NodeView v = cluster.view(i);
    for (int g = 0; g < v.gpu_count(); ++g) {
      std::cout << "  " << v.name() << " GPU " << g << ": " << (v.gpu(g).milli_total - v.free_milli[g]) << "/"
                << v.gpu(g).milli_total << " milli-GPU, " << (v.gpu(g).mib_total - v.free_mib[g]) << "/"
                << v.gpu(g).mib_total << " MiB\n";
    }
  }
  cluster.release("infer-a");
  std::cout << "\nreleased infer-a; " << cluster.allocation_count() << " allocations remain\n";
  return 0;
}
