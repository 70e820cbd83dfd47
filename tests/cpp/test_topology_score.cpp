#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "gpushare/io/topology_json.hpp"
#include "gpushare/solve/node_policies.hpp"
#include "gpushare/solve/schedule.hpp"
#include "gpushare/solve/topology_score.hpp"
#include "helpers.hpp"

using namespace gpushare;

namespace {
Topology fixture(const std::string& n) {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/topology/" + n + ".json");
  REQUIRE(f.good());
  return topology_from_json(nlohmann::json::parse(f));
}
Node gpu_node(const std::string& name, int gpus) {
  Node n;
  n.name = name;
  n.cpu_milli = 64000;
  n.host_mib = 1 << 20;
  for (int i = 0; i < gpus; ++i) n.gpus.push_back({i, "V100", 1000, 16384, true, -1});
  return n;
}
Request whole(int count) {
  Request r;
  r.name = "job";
  r.gpu = {count, 1000, 0};
  return r;
}
}  // namespace

TEST_CASE("topology-aware policy prefers the node whose best set is tighter") {
  Topology volta = fixture("dgx1-volta");
  Cluster c({gpu_node("a", 8), gpu_node("b", 8)});
  // On node a only GPUs 0 and 6 stay free (no NVLink between them); b is empty (NV2 pairs).
  for (int g : {1, 2, 3, 4, 5, 7}) c.allocate(Placement{"x" + std::to_string(g), "a", 0, {g}, 1000, 0, 0, 0});
  auto topos = std::make_shared<NodeTopologies>();
  (*topos)["a"] = volta;
  (*topos)["b"] = volta;
  TopologyAware<BinPack> pol;
  pol.topologies = topos;
  auto r = schedule(c, whole(2), pol);
  REQUIRE(r.placement);
  CHECK(r.placement->node_index == 1);  // plain BinPack would pick the fuller node a
  CHECK(topology_set_score(volta, r.placement->gpus) == topology_set_score(volta, best_gpu_set(volta, {0,1,2,3,4,5,6,7}, 2).gpus));
  auto plain = schedule(c, whole(2), BinPack{});
  REQUIRE(plain.placement);
  CHECK(plain.placement->node_index == 0);
}

TEST_CASE("topology-aware chosen set is the best set among fitting GPUs") {
  std::mt19937 rng(3);
  Topology volta = fixture("dgx1-volta");
  auto topos = std::make_shared<NodeTopologies>();
  (*topos)["a"] = volta;
  for (int rep = 0; rep < 30; ++rep) {
    Cluster c({gpu_node("a", 8)});
    std::vector<int> free;
    for (int g = 0; g < 8; ++g) {
      if (rng() % 3 == 0) c.allocate(Placement{"x" + std::to_string(g), "a", 0, {g}, 1000, 0, 0, 0});
      else free.push_back(g);
    }
    const int k = 2 + static_cast<int>(rng() % 3);
    TopologyAware<FirstFit> pol;
    pol.topologies = topos;
    auto r = schedule(c, whole(k), pol);
    auto want = best_gpu_set(volta, free, k);
    REQUIRE(static_cast<bool>(r.placement) == want.found);
    if (want.found) CHECK(topology_set_score(volta, r.placement->gpus) == want.score);
  }
}
