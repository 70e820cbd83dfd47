#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gpushare/io/topology_json.hpp"
#include "gpushare/solve/topology_set.hpp"

using namespace gpushare;

namespace {
const std::string kData = GPUSHARE_DATA_DIR;
Topology fixture(const std::string& n) {
  std::ifstream f(kData + "/topology/" + n + ".json");
  REQUIRE(f.good());
  return topology_from_json(nlohmann::json::parse(f));
}

struct Brute {
  bool found = false;
  std::int64_t score = 0, cut = 0;
};

// Best (score, then smallest cut if tie) over every k-subset of free containing required.
Brute brute(const Topology& t, const std::vector<int>& free, int k, const std::vector<int>& req,
            bool tie) {
  Brute b;
  const int n = static_cast<int>(free.size());
  for (unsigned m = 0; m < (1u << n); ++m) {
    if (__builtin_popcount(m) != k) continue;
    std::vector<int> s, rest;
    for (int i = 0; i < n; ++i) (m >> i & 1 ? s : rest).push_back(free[i]);
    bool ok = true;
    for (int r : req) ok = ok && std::find(s.begin(), s.end(), r) != s.end();
    if (!ok) continue;
    std::int64_t sc = topology_set_score(t, s), cut = 0;
    for (int a : s)
      for (int x : rest) cut += topology_pair_weight(t, a, x);
    if (!b.found || sc > b.score || (tie && sc == b.score && cut < b.cut)) b = {true, sc, cut};
  }
  return b;
}

void check_against_brute(const Topology& t, const std::vector<int>& free, int k,
                         const std::vector<int>& req) {
  for (bool tie : {false, true}) {
    auto want = brute(t, free, k, req, tie);
    auto got = best_gpu_set(t, free, k, req, TopologySetOptions{tie});
    REQUIRE(got.found == want.found);
    if (!want.found) continue;
    REQUIRE(static_cast<int>(got.gpus.size()) == k);
    CHECK(got.score == want.score);
    CHECK(got.score == topology_set_score(t, got.gpus));
    for (int r : req) CHECK(std::find(got.gpus.begin(), got.gpus.end(), r) != got.gpus.end());
    for (int g : got.gpus) CHECK(std::find(free.begin(), free.end(), g) != free.end());
    if (tie) CHECK(got.cut == want.cut);
  }
}
}  // namespace

TEST_CASE("NVLink dominates PCIe in the set score") {
  Topology t(3);
  t.set_link(0, 1, PcieLevel::sys, 1);
  t.set_link(0, 2, PcieLevel::board, 0);
  t.set_link(1, 2, PcieLevel::board, 0);
  auto r = best_gpu_set(t, {0, 1, 2}, 2);
  CHECK(r.gpus == std::vector<int>{0, 1});
}

TEST_CASE("best_gpu_set equals brute force on every subset problem of the 4/8-GPU fixtures") {
  for (const char* name : {"dgx1-volta", "dgx1-pascal", "rtx8000-4x", "dgx-a100", "dgx-h100",
                           "pcie-8x-2socket"}) {
    Topology t = fixture(name);
    const int n = t.size();
    INFO(name);
    for (unsigned mask = 0; mask < (1u << n); ++mask) {
      std::vector<int> free;
      for (int i = 0; i < n; ++i)
        if (mask >> i & 1) free.push_back(i);
      for (int k = 0; k <= static_cast<int>(free.size()) + 1; ++k) {
        INFO("mask " << mask << " k " << k);
        check_against_brute(t, free, k, {});
        if (!free.empty() && k >= 1 && k <= static_cast<int>(free.size()))
          check_against_brute(t, free, k, {free[mask % free.size()]});
      }
    }
  }
}

TEST_CASE("best_gpu_set equals brute force on the 16-GPU fixture subsets and random topologies") {
  std::mt19937 rng(12345);
  Topology d2 = fixture("dgx2");
  for (int rep = 0; rep < 30; ++rep) {
    std::vector<int> free;
    for (int i = 0; i < 16; ++i)
      if (rng() % 3) free.push_back(i);
    if (free.size() > 12) free.resize(12);
    int k = static_cast<int>(rng() % (free.size() + 1));
    check_against_brute(d2, free, k, {});
  }
  for (int rep = 0; rep < 60; ++rep) {
    const int n = 2 + static_cast<int>(rng() % 11);  // up to 12 GPUs
    Topology t(n);
    for (int i = 0; i < n; ++i) {
      t.set_numa(i, i % 2);
      for (int j = i + 1; j < n; ++j)
        t.set_link(i, j, static_cast<PcieLevel>(1 + rng() % 7), static_cast<int>(rng() % 4 == 0 ? rng() % 3 : 0));
    }
    std::vector<int> free;
    for (int i = 0; i < n; ++i) free.push_back(i);
    for (int k = 1; k <= n; ++k) {
      INFO("rep " << rep << " n " << n << " k " << k);
      std::vector<int> req;
      if (rng() % 2) req.push_back(static_cast<int>(rng() % n));
      check_against_brute(t, free, k, req);
    }
  }
}

TEST_CASE("leave_best_for_later keeps a fully linked pair intact") {
  // 0-1 NV2, 2-3 NV2, 1-2 NV2: for k=2, (0,1), (1,2), (2,3) all score the same; cutting fewest
  // links picks (0,1) or (2,3), never (1,2).
  Topology t(4);
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) t.set_link(i, j, PcieLevel::sys, 0);
  t.set_link(0, 1, PcieLevel::sys, 2);
  t.set_link(2, 3, PcieLevel::sys, 2);
  t.set_link(1, 2, PcieLevel::sys, 2);
  auto r = best_gpu_set(t, {0, 1, 2, 3}, 2, {}, TopologySetOptions{true});
  CHECK(r.gpus != std::vector<int>{1, 2});
}

TEST_CASE("best_gpu_set input errors") {
  Topology t = fixture("dgx1-volta");
  CHECK_THROWS_AS(best_gpu_set(t, {0, 1}, -1), InvalidArgument);
  CHECK_THROWS_AS(best_gpu_set(t, {0, 9}, 1), InvalidArgument);
  CHECK_THROWS_AS(best_gpu_set(t, {0, 0}, 1), InvalidArgument);
  CHECK_THROWS_AS(best_gpu_set(t, {0, 1}, 1, {2}), InvalidArgument);
  CHECK_THROWS_AS(best_gpu_set(t, {0, 1}, 1, {0, 1}), InvalidArgument);
  CHECK_FALSE(best_gpu_set(t, {0, 1}, 3).found);
  CHECK(best_gpu_set(t, {0, 1}, 0).found);
}
