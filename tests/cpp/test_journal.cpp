// Journal: replaying what was appended rebuilds the exact state; bad lines are reported.
#include <catch2/catch.hpp>
#include <gpushare/k8s/extender_service.hpp>
#include <gpushare/k8s/journal.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "helpers.hpp"

using namespace gpushare;

namespace {
std::string temp_path(const char* name) {
  std::string p = std::string("/tmp/gpushare_test_") + name + "_" + std::to_string(::getpid());
  std::remove(p.c_str());
  return p;
}
Cluster empty_like(const Cluster& c) { return Cluster(c.nodes()); }
}  // namespace

TEST_CASE("replaying the journal rebuilds the exact state", "[journal]") {
  std::mt19937_64 rng(21);
  for (int trial = 0; trial < 30; ++trial) {
    const std::string path = temp_path("replay");
    k8s::Journal j(path);
    Cluster c = gstest::random_cluster(rng, 4, 8, 0);
    for (int step = 0; step < 60; ++step) {
      if (gstest::uniform(rng, 0, 2) != 0) {
        auto r = schedule(c, gstest::random_request(rng, "p" + std::to_string(step)), BestFit{});
        if (r) {
          c.allocate(*r.placement);
          j.append_allocate(*r.placement);
        }
      } else if (c.allocation_count()) {
        const auto all = c.allocations();
        const std::string name = all[static_cast<std::size_t>(gstest::uniform(rng, 0, static_cast<std::int64_t>(all.size()) - 1))].request;
        c.release(name);
        j.append_release(name);
      }
    }
    Cluster restored = empty_like(c);
    auto report = j.replay(restored);
    CHECK(report.problems.empty());
    REQUIRE(restored.snapshot() == c.snapshot());
    REQUIRE(restored.allocations() == c.allocations());
    j.compact(c);
    Cluster again = empty_like(c);
    j.replay(again);
    REQUIRE(again.allocations() == c.allocations());
    std::remove(path.c_str());
  }
}

TEST_CASE("journal problems are reported, not skipped", "[journal]") {
  Cluster c;
  Node n{"n1", 8000, 32768, {}, {}};
  n.gpus.push_back({0, "T4", 1000, 16384});
  c.add_node(n);
  const std::string path = temp_path("bad");
  {
    std::ofstream out(path);
    out << R"({"op":"allocate","placement":{"request":"a","node":"n1","gpus":[0],"milli_per_gpu":600,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})" << "\n";
    out << R"({"op":"allocate","placement":{"request":"b","node":"n1","gpus":[0],"milli_per_gpu":600,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})" << "\n";
    out << R"({"op":"allocate","placement":{"request":"c","node":"gone","gpus":[0],"milli_per_gpu":1,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})" << "\n";
    out << R"({"op":"release","request":"zzz"})" << "\n";
    out << R"({"op":"allocate","placement":{"request":"d")";  // torn: the writer died here
  }
  k8s::Journal j(path);
  auto report = j.replay(c);
  CHECK(report.applied == 1);
  CHECK(report.torn_tail);
  REQUIRE(report.problems.size() == 3);
  CHECK_THAT(report.problems[0], Catch::Contains("GPU 0 has 400 milli-GPU free, needs 600"));
  CHECK_THAT(report.problems[1], Catch::Contains("node 'gone' is not in the cluster"));
  CHECK_THAT(report.problems[2], Catch::Contains("no allocation named 'zzz'"));
  {
    std::ofstream out(path);
    out << "garbage\n" << R"({"op":"release","request":"a"})" << "\n";
  }
  Cluster fresh(c.nodes());
  CHECK_THROWS_WITH(j.replay(fresh), Catch::Contains(path + ":1: not a JSON line"));
  CHECK(fresh.allocation_count() == 0);
  std::remove(path.c_str());
}

// A service killed mid-write leaves a torn last line. Before the fix, replay ignored it but left
// it in the file, so the next append was glued to it and the following restart failed with
// "not a JSON line" (every allocation lost from view). Replay now cuts the torn tail off.
TEST_CASE("a torn tail is removed at replay, so appends after a restart stay readable", "[journal]") {
  Cluster c;
  Node n{"n1", 8000, 32768, {}, {}};
  n.gpus.push_back({0, "T4", 1000, 16384});
  c.add_node(n);
  const std::string path = temp_path("torn");
  {
    std::ofstream out(path);
    out << R"({"op":"allocate","placement":{"request":"a","node":"n1","gpus":[0],"milli_per_gpu":300,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})" << "\n";
    out << R"({"op":"allocate","placement":{"request":"b","no)";  // the first life died here
  }
  Placement b;
  {
    k8s::Journal j(path);  // second life
    auto report = j.replay(c);
    CHECK(report.torn_tail);
    CHECK(report.applied == 1);
    b = Placement{"b", "n1", 0, {0}, 200, 0, 0, 0};
    c.allocate(b);
    j.append_allocate(b);
  }
  Cluster third(c.nodes());  // third life: both allocations come back
  k8s::Journal j(path);
  auto report = j.replay(third);
  CHECK_FALSE(report.torn_tail);
  CHECK(report.problems.empty());
  CHECK(report.applied == 2);
  CHECK(third.allocation_count() == 2);
  CHECK(third.free_milli(0, 0) == 500);
  std::remove(path.c_str());
}

TEST_CASE("cut_torn_tail keeps whole lines only; the bind journal repairs itself on open", "[journal]") {
  const std::string path = temp_path("cut");
  auto slurp = [&] {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  CHECK_FALSE(k8s::cut_torn_tail(path));  // missing file
  { std::ofstream(path) << ""; }
  CHECK_FALSE(k8s::cut_torn_tail(path));  // empty
  { std::ofstream(path) << "{\"a\":1}\n{\"b\":2}\n{\"c\""; }
  CHECK(k8s::cut_torn_tail(path));
  CHECK(slurp() == "{\"a\":1}\n{\"b\":2}\n");
  CHECK_FALSE(k8s::cut_torn_tail(path));
  { std::ofstream(path) << "no newline at all"; }
  CHECK(k8s::cut_torn_tail(path));
  CHECK(slurp().empty());
  { std::ofstream(path) << "{\"namespace\":\"ns\",\"name\":\"p0\"}\n{\"namesp"; }
  k8s::JournalBinder binder(path);
  binder.bind("ns", "p1", "uid", "n1", {{"k", "v"}});
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> names;
  while (std::getline(in, line)) names.push_back(nlohmann::json::parse(line).at("name").get<std::string>());
  CHECK(names == std::vector<std::string>{"p0", "p1"});
  std::remove(path.c_str());
}

// Review finding: a line that is JSON but not an operation ([] or {"op": 5}) escaped as a
// nlohmann exception after the lines before it had been applied.
TEST_CASE("a line that is not an operation is refused before anything is applied; reallocate moves", "[journal]") {
  Cluster c;
  Node n{"n1", 8000, 32768, {}, {}};
  n.gpus.push_back({0, "T4", 1000, 16384});
  n.gpus.push_back({1, "T4", 1000, 16384});
  c.add_node(n);
  const std::string path = temp_path("shape");
  const std::string alloc_a =
      R"({"op":"allocate","placement":{"request":"a","node":"n1","gpus":[0],"milli_per_gpu":300,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})";
  for (const std::string bad : {"[]", "5", R"({"op":5})", R"({"op":"release","request":7})", R"({"op":"allocate"})",
                                R"({"op":"teleport"})"}) {
    { std::ofstream(path) << alloc_a << "\n" << bad << "\n"; }
    Cluster fresh(c.nodes());
    k8s::Journal j(path);
    CHECK_THROWS_AS(j.replay(fresh), ParseError);
    CHECK_THROWS_WITH(j.replay(fresh), Catch::Contains(path + ":2"));
    CHECK(fresh.allocation_count() == 0);
  }
  {
    std::ofstream out(path);
    out << alloc_a << "\n";
    out << R"({"op":"reallocate","placement":{"request":"a","node":"n1","gpus":[1],"milli_per_gpu":500,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})" << "\n";
    out << R"({"op":"reallocate","placement":{"request":"b","node":"n1","gpus":[1],"milli_per_gpu":600,"mib_per_gpu":0,"cpu_milli":0,"host_mib":0}})" << "\n";
  }
  Cluster fresh(c.nodes());
  k8s::Journal j(path);
  auto report = j.replay(fresh);
  CHECK(report.applied == 2);
  REQUIRE(report.problems.size() == 1);  // b does not fit next to a's 500 on GPU 1
  CHECK(fresh.allocation("a")->gpus == std::vector<int>{1});
  CHECK(fresh.free_milli(0, 0) == 1000);
  CHECK(fresh.free_milli(0, 1) == 500);
  std::remove(path.c_str());
}
