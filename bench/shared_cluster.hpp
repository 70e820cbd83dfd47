// bench/shared_cluster.hpp — the benchmarks' standard cluster: `nodes` nodes of 8 A100s (1000
// milli, 80 GiB each; 96 cores, 768 GiB), filled with random shares on random GPUs until about
// 60% of the GPU compute is taken. Seeded, so every benchmark sees the same cluster per size;
// built once per size and cached.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "gpushare/model/cluster.hpp"

namespace bench {

inline gpushare::Cluster make_shared_cluster(int nodes) {
  std::mt19937_64 rng(42);
  gpushare::Cluster c;
  for (int i = 0; i < nodes; ++i) {
    gpushare::Node n{"node-" + std::to_string(i), 96000, 786432, {}, {}};
    for (int g = 0; g < 8; ++g) n.gpus.push_back({g, "A100", 1000, 81920});
    c.add_node(std::move(n));
  }
  std::uniform_int_distribution<int> node_d(0, nodes - 1), gpu_d(0, 7), milli_d(1, 10);
  int k = 0;
  while (c.free_gpu_milli() > c.total_gpu_milli() * 4 / 10) {
    const auto node = static_cast<std::size_t>(node_d(rng));
    const int gpu = gpu_d(rng);
    const std::int64_t milli = milli_d(rng) * 100;
    if (c.free_milli(node, gpu) < milli) continue;
    c.allocate({"fill-" + std::to_string(k++), c.nodes()[node].name, node, {gpu}, milli, milli * 64, 1000, 4096});
  }
  return c;
}

/// The cached cluster of `nodes` nodes (built on first use).
inline const gpushare::Cluster& shared_cluster(int nodes) {
  static std::map<int, gpushare::Cluster> cache;
  auto it = cache.find(nodes);
  if (it == cache.end()) it = cache.emplace(nodes, make_shared_cluster(nodes)).first;
  return it->second;
}

}  // namespace bench
