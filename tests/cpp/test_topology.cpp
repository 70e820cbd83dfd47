#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gpushare/io/nvidia_smi_topo.hpp"
#include "gpushare/io/topology_json.hpp"
#include "gpushare/model/topology.hpp"

using namespace gpushare;

namespace {
std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}
const std::string kTopo = std::string(GPUSHARE_DATA_DIR) + "/topology/";
const std::vector<std::string> kSmi = {
    "a100-pcie-2gpu", "ac922-v100-nv3", "consumer-2gpu-nv2", "dgx-a100",      "dgx1-v100",
    "h100-8gpu-topo-mp", "h100-pli",   "k40m-4gpu-soc",     "rtx3090-8gpu-pcie", "rtx5090-2gpu-phb"};
const std::vector<std::string> kFixtures = {"dgx-a100", "dgx-h100", "dgx1-pascal", "dgx1-volta",
                                            "dgx2", "pcie-8x-2socket", "rtx8000-4x"};

nlohmann::json to_expected_shape(const SmiTopo& s) {
  nlohmann::json j;
  j["gpus"] = s.gpus;
  j["cells"] = s.cells;
  if (s.cpu_affinity) {
    j["cpu_affinity"] = nlohmann::json::array();
    for (auto& c : *s.cpu_affinity) j["cpu_affinity"].push_back(c ? nlohmann::json(*c) : nullptr);
  } else {
    j["cpu_affinity"] = nullptr;
  }
  if (s.numa_affinity) {
    j["numa_affinity"] = nlohmann::json::array();
    for (auto& c : *s.numa_affinity) j["numa_affinity"].push_back(c ? nlohmann::json(*c) : nullptr);
  } else {
    j["numa_affinity"] = nullptr;
  }
  j["nics"] = s.nics;
  return j;
}
}  // namespace

TEST_CASE("every smi/*.txt parses to its .expected.json") {
  for (const auto& name : kSmi) {
    INFO(name);
    auto got = to_expected_shape(parse_nvidia_smi_topo(slurp(kTopo + "smi/" + name + ".txt")));
    auto want = nlohmann::json::parse(slurp(kTopo + "smi/" + name + ".expected.json"));
    INFO("got " << got.dump());
    CHECK(got == want);
  }
}

TEST_CASE("smi to_topology maps NV#, SOC and NUMA") {
  auto t = parse_nvidia_smi_topo(slurp(kTopo + "smi/dgx1-v100.txt")).to_topology();
  REQUIRE(t.size() == 8);
  CHECK(t.nvlink()(0, 3) == 2);
  CHECK(t.nvlink()(0, 1) == 1);
  CHECK(t.nvlink()(0, 5) == 0);
  CHECK(t.pcie_level(0, 5) == PcieLevel::sys);
  CHECK(t.pcie_level(0, 1) == PcieLevel::unknown);
  auto k = parse_nvidia_smi_topo(slurp(kTopo + "smi/k40m-4gpu-soc.txt")).to_topology();
  CHECK(k.pcie_level(0, 2) == PcieLevel::sys);
  CHECK(k.pcie_level(0, 1) == PcieLevel::phb);
  auto a = parse_nvidia_smi_topo(slurp(kTopo + "smi/ac922-v100-nv3.txt")).to_topology();
  CHECK(a.numa()(2) == 8);
  CHECK(!a.nvswitch());
  auto h = parse_nvidia_smi_topo(slurp(kTopo + "smi/h100-pli.txt")).to_topology();
  CHECK(h.nvswitch());
}

TEST_CASE("malformed smi text reports line and column") {
  const std::string good = "\tGPU0\tGPU1\tCPU Affinity\nGPU0\t X \tPHB\t0-3\nGPU1\tPHB\t X \t0-3\n";
  REQUIRE_NOTHROW(parse_nvidia_smi_topo(good));
  auto msg = [](const std::string& txt) {
    try {
      parse_nvidia_smi_topo(txt);
    } catch (const ParseError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg("\tGPU0\tGPU1\nGPU0\t X \tQQQ\nGPU1\tPHB\t X \n").find("line 2, column 10") !=
        std::string::npos);
  CHECK(msg("\tGPU0\tGPU1\nGPU0\t X \tPHB\n").find("line 3") != std::string::npos);
  CHECK(msg("\tGPU0\tGPU1\nGPU0\t X \nGPU1\tPHB\t X \n").find("line 2") != std::string::npos);
  CHECK(msg("\tGPU0\tGPU1\nGPU0\t X \tPHB\nGPU1\tSYS\t X \n").find("GPU1") != std::string::npos);
  CHECK(msg("\tGPU1\tGPU0\n").find("line 1, column 2") != std::string::npos);
  CHECK(msg("").find("line 1") != std::string::npos);
  CHECK(msg("\tGPU0\tNUMA Affinity\nGPU0\t X \tzz\n").find("line 2, column 10") != std::string::npos);
  CHECK(msg("\tGPU0\tGPU1\nGPU0\tPHB\tPHB\nGPU1\tPHB\t X \n").find("diagonal") != std::string::npos);
}

TEST_CASE("JSON fixtures load and round-trip") {
  for (const auto& name : kFixtures) {
    INFO(name);
    auto j = nlohmann::json::parse(slurp(kTopo + name + ".json"));
    Topology t = topology_from_json(j);
    REQUIRE(t.size() == j["gpus"].get<int>());
    for (int a = 0; a < t.size(); ++a) {
      CHECK(t.numa()(a) == (j["numa"][a].is_null() ? -1 : j["numa"][a].get<int>()));
      for (int b = 0; b < t.size(); ++b) {
        CHECK(t.nvlink()(a, b) == j["nvlink"][a][b].get<int>());
        if (j["pcie"][a][b].is_null()) CHECK(t.pcie_level(a, b) == PcieLevel::unknown);
        else CHECK(to_string(t.pcie_level(a, b)) == j["pcie"][a][b].get<std::string>());
      }
    }
    CHECK(t.nvswitch() == j["nvswitch"].get<bool>());
    auto back = topology_to_json(t);
    CHECK(back["pcie"] == j["pcie"]);
    CHECK(back["nvlink"] == j["nvlink"]);
    CHECK(back["numa"] == j["numa"]);
  }
}

TEST_CASE("JSON loader rejects bad input naming the field") {
  auto j = nlohmann::json::parse(slurp(kTopo + "dgx1-volta.json"));
  auto bad = j;
  bad["pcie"][0][1] = "FOO";
  CHECK_THROWS_WITH(topology_from_json(bad), Catch::Contains("pcie[0][1]"));
  bad = j;
  bad["nvlink"][2][3] = 7;
  CHECK_THROWS_WITH(topology_from_json(bad), Catch::Contains("symmetric"));
  bad = j;
  bad["numa"] = {0};
  CHECK_THROWS_WITH(topology_from_json(bad), Catch::Contains("numa"));
  bad = j;
  bad.erase("gpus");
  CHECK_THROWS_AS(topology_from_json(bad), ParseError);
}
