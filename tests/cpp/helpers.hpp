// Test helpers: seeded random clusters, requests and a from-scratch usage recomputation.
#pragma once

#include <gpushare/gpushare.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace gstest {

inline std::int64_t uniform(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

/// A random node with 0..max_gpus GPUs; memory sizes come from a small set so ties happen.
inline gpushare::Node random_node(std::mt19937_64& rng, const std::string& name, int max_gpus = 8) {
  static const char* models[] = {"T4", "V100M16", "A100"};
  gpushare::Node n;
  n.name = name;
  n.cpu_milli = uniform(rng, 1, 8) * 4000;
  n.host_mib = uniform(rng, 1, 8) * 16384;
  const int g = static_cast<int>(uniform(rng, 0, max_gpus));
  const char* model = models[uniform(rng, 0, 2)];
  const std::int64_t mib = uniform(rng, 1, 4) * 4096;
  for (int i = 0; i < g; ++i) n.gpus.push_back({i, model, 1000, mib, uniform(rng, 0, 15) != 0, -1});
  return n;
}

/// A random request; milli and MiB come from coarse grids so exact fits and ties are common.
inline gpushare::Request random_request(std::mt19937_64& rng, const std::string& name, int max_count = 4) {
  gpushare::Request r;
  r.name = name;
  r.cpu_milli = uniform(rng, 0, 4) * 2000;
  r.host_mib = uniform(rng, 0, 4) * 8192;
  const int count = static_cast<int>(uniform(rng, 0, max_count));
  if (count > 0) {
    const int kind = static_cast<int>(uniform(rng, 0, 2));
    const std::int64_t milli = kind == 0 ? 1000 : uniform(rng, 1, 10) * 100;
    const std::int64_t mib = kind == 2 ? 0 : uniform(rng, 0, 8) * 1024;
    r.gpu = {count, milli, mib};
  }
  if (uniform(rng, 0, 9) == 0) r.allowed_models = {"T4", "A100"};
  if (uniform(rng, 0, 9) == 0) r.denied_models = {"A100"};
  return r;
}

/// A random cluster of `nodes` nodes, partly filled by best-fit placements of random requests.
inline gpushare::Cluster random_cluster(std::mt19937_64& rng, int nodes, int max_gpus = 8, int fill = 12) {
  gpushare::Cluster c;
  for (int i = 0; i < nodes; ++i) c.add_node(random_node(rng, "n" + std::to_string(i), max_gpus));
  for (int k = 0; k < fill; ++k) {
    gpushare::Request r = random_request(rng, "fill" + std::to_string(k));
    auto res = gpushare::schedule(c, r, gpushare::BestFit{}, {false, true});
    if (res) c.allocate(*res.placement);
  }
  return c;
}

/// Usage recomputed from the list of live allocations, independent of Cluster's bookkeeping.
inline gpushare::UsageSnapshot recompute(const gpushare::Cluster& c) {
  gpushare::UsageSnapshot s;
  for (const auto& n : c.nodes()) {
    s.node_free_cpu_milli.push_back(n.cpu_milli);
    s.node_free_host_mib.push_back(n.host_mib);
    for (const auto& g : n.gpus) {
      s.gpu_free_milli.push_back(g.milli_total);
      s.gpu_free_mib.push_back(g.mib_total);
    }
  }
  for (const auto& p : c.allocations()) {
    s.node_free_cpu_milli[p.node_index] -= p.cpu_milli;
    s.node_free_host_mib[p.node_index] -= p.host_mib;
    for (int g : p.gpus) {
      s.gpu_free_milli[c.gpu_offset(p.node_index) + static_cast<std::size_t>(g)] -= p.milli_per_gpu;
      s.gpu_free_mib[c.gpu_offset(p.node_index) + static_cast<std::size_t>(g)] -= p.mib_per_gpu;
    }
  }
  return s;
}

}  // namespace gstest
