#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gpushare/modes/conform/run.hpp"
#include "gpushare/io/topology_json.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"

using namespace gpushare;

namespace {
const std::string kData = GPUSHARE_DATA_DIR;
Topology fixture(const std::string& n) {
  std::ifstream f(kData + "/topology/" + n + ".json");
  REQUIRE(f.good());
  return topology_from_json(nlohmann::json::parse(f));
}
}  // namespace

TEST_CASE("gpuallocator-besteffort suite passes") {
  std::ifstream f(kData + "/conformance/gpuallocator-besteffort.json");
  REQUIRE(f.good());
  auto suite = nlohmann::json::parse(f);
  auto r = conform::run_suite(suite, kData + "/conformance");
  for (auto& fl : r.failures) WARN(fl.id << " expected " << fl.expected << " got " << fl.got);
  CHECK(r.supported);
  CHECK(r.passed == static_cast<int>(suite["cases"].size()));
  CHECK(r.failed() == 0);
}

TEST_CASE("branch and bound equals plain enumeration") {
  std::mt19937 rng(7);
  for (const char* name : {"dgx1-volta", "dgx1-pascal", "rtx8000-4x", "dgx-a100", "pcie-8x-2socket"}) {
    Topology t = fixture(name);
    const int n = t.size();
    for (unsigned mask = 1; mask < (1u << n); mask += 3) {
      std::vector<int> avail;
      for (int i = 0; i < n; ++i)
        if (mask >> i & 1) avail.push_back(i);
      for (int size = 1; size <= static_cast<int>(avail.size()); ++size) {
        std::vector<int> req;
        if (rng() % 2 && !avail.empty()) req.push_back(avail[rng() % avail.size()]);
        INFO(name << " mask " << mask << " size " << size);
        CHECK(nvidia_besteffort(t, avail, req, size) == nvidia_besteffort_enumerate(t, avail, req, size));
      }
    }
  }
  // Random 10-GPU topologies with random link counts.
  for (int rep = 0; rep < 20; ++rep) {
    Topology t(10);
    for (int i = 0; i < 10; ++i)
      for (int j = i + 1; j < 10; ++j)
        t.set_link(i, j, static_cast<PcieLevel>(1 + rng() % 6), static_cast<int>(rng() % 3));
    std::vector<int> avail = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    for (int size : {2, 3, 4, 5}) {
      INFO("rep " << rep << " size " << size);
      CHECK(nvidia_besteffort(t, avail, {}, size) == nvidia_besteffort_enumerate(t, avail, {}, size));
    }
  }
}

TEST_CASE("besteffort edge cases") {
  Topology t = fixture("dgx1-volta");
  CHECK(nvidia_besteffort(t, {0, 1}, {}, 0).empty());
  CHECK(nvidia_besteffort(t, {0, 1}, {}, 3).empty());
  CHECK(nvidia_besteffort(t, {0, 1}, {5}, 1).empty());
  CHECK(nvidia_besteffort(t, {2, 4}, {4}, 1) == std::vector<int>{4});
  CHECK(nvidia_besteffort(t, {2, 4}, {}, 1) == std::vector<int>{2});
  CHECK_THROWS_AS(nvidia_besteffort(t, {0, 9}, {}, 1), InvalidArgument);
}
