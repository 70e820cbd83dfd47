// Cluster invariants: random allocate/release sequences never over-allocate, always agree with
// a from-scratch recomputation, and releasing everything restores the exact empty state.
// Every error path raises a typed error with a clear message and changes nothing.
#include <catch2/catch.hpp>

#include <map>

#include "helpers.hpp"

using namespace gpushare;

namespace {

void check_within_capacity(const Cluster& c) {
  const UsageSnapshot s = c.snapshot();
  std::size_t k = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    const Node& n = c.nodes()[i];
    REQUIRE(s.node_free_cpu_milli[i] >= 0);
    REQUIRE(s.node_free_cpu_milli[i] <= n.cpu_milli);
    REQUIRE(s.node_free_host_mib[i] >= 0);
    REQUIRE(s.node_free_host_mib[i] <= n.host_mib);
    for (const Gpu& g : n.gpus) {
      REQUIRE(s.gpu_free_milli[k] >= 0);
      REQUIRE(s.gpu_free_milli[k] <= g.milli_total);
      REQUIRE(s.gpu_free_mib[k] >= 0);
      REQUIRE(s.gpu_free_mib[k] <= g.mib_total);
      ++k;
    }
  }
}

// A placement that may or may not fit: random node, random GPUs, random amounts.
Placement random_placement(std::mt19937_64& rng, const Cluster& c, const std::string& name) {
  Placement p;
  p.request = name;
  p.node_index = static_cast<std::size_t>(gstest::uniform(rng, 0, static_cast<std::int64_t>(c.size()) - 1));
  p.node = c.nodes()[p.node_index].name;
  const int n = static_cast<int>(c.nodes()[p.node_index].gpus.size());
  for (int g = 0; g < n; ++g)
    if (gstest::uniform(rng, 0, 2) == 0) p.gpus.push_back(g);
  if (!p.gpus.empty()) {
    p.milli_per_gpu = gstest::uniform(rng, 0, 10) * 100;
    p.mib_per_gpu = gstest::uniform(rng, 0, 8) * 1024;
  }
  p.cpu_milli = gstest::uniform(rng, 0, 8) * 1000;
  p.host_mib = gstest::uniform(rng, 0, 8) * 4096;
  return p;
}

}  // namespace

TEST_CASE("random allocate/release sequences keep every capacity and match a recomputation", "[property]") {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    Cluster c;
    const int nodes = static_cast<int>(gstest::uniform(rng, 1, 6));
    for (int i = 0; i < nodes; ++i) c.add_node(gstest::random_node(rng, "n" + std::to_string(i)));
    const UsageSnapshot empty = c.snapshot();
    int ok = 0;
    for (int step = 0; step < 200; ++step) {
      const UsageSnapshot before = c.snapshot();
      const std::size_t live = c.allocation_count();
      const int op = static_cast<int>(gstest::uniform(rng, 0, 3));
      if (op <= 1) {  // allocate something random: either it fits and applies, or it throws and nothing changes
        Placement p = random_placement(rng, c, "a" + std::to_string(gstest::uniform(rng, 0, 40)));
        try {
          c.allocate(p);
          ++ok;
          REQUIRE(c.allocation_count() == live + 1);
        } catch (const Error&) {
          REQUIRE(c.snapshot() == before);
          REQUIRE(c.allocation_count() == live);
        }
      } else if (op == 2 && live > 0) {  // release a live allocation
        auto all = c.allocations();
        const Placement p = all[static_cast<std::size_t>(gstest::uniform(rng, 0, static_cast<std::int64_t>(all.size()) - 1))];
        c.release(p);
        REQUIRE(c.allocation_count() == live - 1);
      } else {  // release something that may not be allocated
        const std::string name = "a" + std::to_string(gstest::uniform(rng, 0, 40));
        if (c.allocation(name)) {
          c.release(name);
        } else {
          REQUIRE_THROWS_AS(c.release(name), NotFound);
          REQUIRE(c.snapshot() == before);
        }
      }
      check_within_capacity(c);
      REQUIRE(c.snapshot() == gstest::recompute(c));
    }
    CHECK(ok > 0);
    for (const auto& p : c.allocations()) c.release(p);
    REQUIRE(c.snapshot() == empty);
    REQUIRE(c.free_gpu_milli() == c.total_gpu_milli());
  }
}

TEST_CASE("the free-GPU index always lists exactly the healthy GPUs with their free capacity", "[property]") {
  std::mt19937_64 rng(12);
  for (int trial = 0; trial < 200; ++trial) {
    Cluster c = gstest::random_cluster(rng, 5, 8, 20);
    for (int k = 0; k < 10; ++k) {
      const std::size_t n = static_cast<std::size_t>(gstest::uniform(rng, 0, 4));
      const int gpus = static_cast<int>(c.nodes()[n].gpus.size());
      if (gpus) c.set_gpu_healthy(n, static_cast<int>(gstest::uniform(rng, 0, gpus - 1)), gstest::uniform(rng, 0, 1) == 1);
    }
    std::vector<FreeGpuIndex::Key> want;
    for (std::size_t i = 0; i < c.size(); ++i)
      for (int g = 0; g < static_cast<int>(c.nodes()[i].gpus.size()); ++g)
        if (c.nodes()[i].gpus[static_cast<std::size_t>(g)].healthy)
          want.push_back({c.free_milli(i, g), c.free_mib(i, g), static_cast<std::int64_t>(c.gpu_offset(i)) + g});
    std::sort(want.begin(), want.end());
    std::vector<FreeGpuIndex::Key> got(c.free_gpu_index().begin(), c.free_gpu_index().end());
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      REQUIRE(got[i].free_milli == want[i].free_milli);
      REQUIRE(got[i].free_mib == want[i].free_mib);
      REQUIRE(got[i].gpu == want[i].gpu);
    }
  }
}

TEST_CASE("error paths raise a clear error and change nothing", "[errors]") {
  Cluster c;
  Node n{"n1", 8000, 32768, {}, {}};
  for (int i = 0; i < 2; ++i) n.gpus.push_back({i, "T4", 1000, 16384});
  c.add_node(n);
  Placement ok{"job", "n1", 0, {0}, 500, 4096, 1000, 1024};
  c.allocate(ok);
  const UsageSnapshot before = c.snapshot();
  auto unchanged = [&] {
    REQUIRE(c.snapshot() == before);
    REQUIRE(c.allocation_count() == 1);
  };

  SECTION("negative sizes in a request") {
    Request r;
    r.name = "bad";
    r.cpu_milli = -1;
    CHECK_THROWS_WITH(schedule(c, r, BestFit{}), Catch::Contains("request bad: cpu_milli must be in [0") && Catch::Contains("got -1"));
    r.cpu_milli = 0;
    r.gpu = {1, 100, -5};
    CHECK_THROWS_AS(schedule(c, r, BestFit{}), InvalidArgument);
    CHECK_THROWS_WITH(schedule(c, r, BestFit{}), Catch::Contains("gpu.mib"));
    r.gpu = {-1, 100, 0};
    CHECK_THROWS_WITH(schedule(c, r, BestFit{}), Catch::Contains("gpu.count"));
    unchanged();
  }
  SECTION("milli above 1000") {
    Request r;
    r.name = "bad";
    r.gpu = {1, 1001, 0};
    CHECK_THROWS_WITH(schedule(c, r, BestFit{}), Catch::Contains("gpu.milli must be in [0, 1000], got 1001"));
    unchanged();
  }
  SECTION("count larger than the GPUs of any node: every node says so") {
    Request r;
    r.name = "wide";
    r.gpu = {4, 1000, 0};
    auto res = schedule(c, r, BestFit{});
    REQUIRE_FALSE(res);
    REQUIRE(res.rejections.size() == 1);
    CHECK(res.rejections[0].reason == RejectReason::gpu_count);
    CHECK(res.explain().find("node n1: requests 4 GPUs, node has 2") != std::string::npos);
    Placement p{"wide", "n1", 0, {0, 1, 2, 3}, 1000, 0, 0, 0};
    CHECK_THROWS_WITH(c.allocate(p), Catch::Contains("node n1 has no GPU 2"));
    unchanged();
  }
  SECTION("over-allocation of GPU, CPU or host memory") {
    CHECK_THROWS_WITH(c.allocate(Placement{"x", "n1", 0, {0}, 600, 0, 0, 0}),
                      Catch::Contains("GPU 0 has 500 milli-GPU free, needs 600"));
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {1}, 0, 16385, 0, 0}), CapacityError);
    CHECK_THROWS_WITH(c.allocate(Placement{"x", "n1", 0, {}, 0, 0, 7001, 0}), Catch::Contains("CPU has 7000 milli-CPU free"));
    CHECK_THROWS_WITH(c.allocate(Placement{"x", "n1", 0, {}, 0, 0, 0, 40000}), Catch::Contains("host memory"));
    // The second GPU fits, the first does not: nothing at all is applied.
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {0, 1}, 600, 0, 0, 0}), CapacityError);
    unchanged();
  }
  SECTION("unknown node or GPU") {
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n9", 5, {0}, 1, 0, 0, 0}), NotFound);
    CHECK_THROWS_WITH(c.allocate(Placement{"x", "n9", 0, {0}, 1, 0, 0, 0}), Catch::Contains("'n9' is not node 0"));
    CHECK_THROWS_WITH(c.allocate(Placement{"x", "n1", 0, {7}, 1, 0, 0, 0}), Catch::Contains("has no GPU 7"));
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {-1}, 1, 0, 0, 0}), NotFound);
    CHECK_THROWS_AS(c.node_index("n9"), NotFound);
    CHECK_THROWS_AS(c.free_milli(0, 9), NotFound);
    CHECK_THROWS_AS(c.set_gpu_healthy(3, 0, false), NotFound);
    unchanged();
  }
  SECTION("malformed placements") {
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {1, 1}, 1, 0, 0, 0}), InvalidArgument);
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {1, 0}, 1, 0, 0, 0}), InvalidArgument);
    CHECK_THROWS_AS(c.allocate(Placement{"", "n1", 0, {1}, 1, 0, 0, 0}), InvalidArgument);
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {1}, -1, 0, 0, 0}), InvalidArgument);
    CHECK_THROWS_AS(c.allocate(Placement{"x", "n1", 0, {}, 100, 0, 0, 0}), InvalidArgument);
    unchanged();
  }
  SECTION("duplicate allocation name") {
    CHECK_THROWS_AS(c.allocate(ok), ConflictError);
    CHECK_THROWS_WITH(c.allocate(ok), Catch::Contains("already allocated on node n1"));
    unchanged();
  }
  SECTION("release of something not allocated, a mismatched placement, and double release") {
    CHECK_THROWS_WITH(c.release("nope"), Catch::Contains("no allocation named 'nope'"));
    Placement other = ok;
    other.gpus = {1};
    CHECK_THROWS_AS(c.release(other), ConflictError);
    unchanged();
    c.release(ok);
    const UsageSnapshot after = c.snapshot();
    CHECK_THROWS_AS(c.release(ok), NotFound);
    CHECK_THROWS_WITH(c.release("job"), Catch::Contains("released already"));
    CHECK(c.snapshot() == after);
  }
  SECTION("bad nodes") {
    Node bad{"", 1, 1, {}, {}};
    CHECK_THROWS_WITH(c.add_node(bad), Catch::Contains("name must not be empty"));
    bad.name = "n2";
    bad.cpu_milli = -4;
    CHECK_THROWS_WITH(c.add_node(bad), Catch::Contains("node n2: cpu_milli"));
    bad.cpu_milli = 0;
    bad.gpus.push_back({1, "T4", 1000, 100});
    CHECK_THROWS_WITH(c.add_node(bad), Catch::Contains("index must equal its position 0"));
    bad.gpus = {{0, "T4", 0, 100}};
    CHECK_THROWS_WITH(c.add_node(bad), Catch::Contains("milli_total"));
    bad.gpus = {{0, "T4", 1000, -1}};
    CHECK_THROWS_WITH(c.add_node(bad), Catch::Contains("mib_total"));
    CHECK_THROWS_AS(c.add_node(n), ConflictError);  // duplicate name
    CHECK(c.size() == 1);
    unchanged();
  }
}

TEST_CASE("unhealthy GPUs keep their work but take none", "[health]") {
  Cluster c;
  Node n{"n1", 8000, 32768, {}, {}};
  for (int i = 0; i < 2; ++i) n.gpus.push_back({i, "T4", 1000, 16384});
  c.add_node(n);
  c.allocate(Placement{"job", "n1", 0, {0}, 300, 0, 0, 0});
  c.set_gpu_healthy(0, 0, false);
  CHECK_THROWS_WITH(c.allocate(Placement{"x", "n1", 0, {0}, 100, 0, 0, 0}), Catch::Contains("GPU 0 is unhealthy"));
  Request r;
  r.name = "probe";
  r.gpu = {2, 100, 0};
  auto res = schedule(c, r, BestFit{});
  REQUIRE_FALSE(res);
  CHECK(res.rejections[0].reason == RejectReason::gpu_unhealthy);
  c.release("job");
  CHECK(c.free_milli(0, 0) == 1000);
  c.set_gpu_healthy(0, 0, true);
  CHECK(schedule(c, r, BestFit{}));
}

TEST_CASE("explanations name the classic fragmentation case", "[explain]") {
  Cluster c;
  Node n{"n3", 64000, 262144, {}, {}};
  for (int i = 0; i < 2; ++i) n.gpus.push_back({i, "T4", 1000, 16384});
  c.add_node(n);
  c.allocate(Placement{"a", "n3", 0, {0}, 100, 10240, 0, 0});
  c.allocate(Placement{"b", "n3", 0, {1}, 100, 10240, 0, 0});
  Request r;
  r.name = "big";
  r.gpu = {1, 100, 8192};
  auto res = schedule(c, r, BestFit{});
  REQUIRE_FALSE(res);
  REQUIRE(res.rejections.size() == 1);
  CHECK(res.rejections[0].reason == RejectReason::gpu_fragmented);
  CHECK(res.rejections[0].message == "node n3: no single GPU has 8192 MiB free (largest free 6144 MiB); total free 12288 MiB");
  r.gpu = {1, 100, 16384};
  res = schedule(c, r, BestFit{});
  CHECK(res.rejections[0].reason == RejectReason::gpu_capacity);
  r.gpu = {1, 950, 0};
  res = schedule(c, r, BestFit{});
  CHECK(res.rejections[0].message == "node n3: no single GPU has 950 milli-GPU free (largest free 900 milli-GPU); total free 1800 milli-GPU");
  CHECK(res.rejections[0].reason == RejectReason::gpu_fragmented);
  r.gpu = {1, 100, 0};
  r.cpu_milli = 70000;
  res = schedule(c, r, BestFit{});
  CHECK(res.rejections[0].message == "node n3: insufficient CPU: requests 70000 milli-CPU, 64000 free");
  r.cpu_milli = 0;
  r.allowed_models = {"A100"};
  res = schedule(c, r, BestFit{});
  CHECK(res.rejections[0].reason == RejectReason::gpu_model);
  CHECK(res.explain().find("allowed: A100") != std::string::npos);
}

TEST_CASE("random operations including node add/remove and GPU health match a reference model", "[property]") {
  // The reference keeps only the node list and the live placements (by node name) and
  // recomputes every free capacity from scratch.
  std::mt19937_64 rng(13);
  for (int trial = 0; trial < 150; ++trial) {
    Cluster c;
    std::map<std::string, Placement> ref;  // request -> placement (node by name)
    int next_node = 0;
    for (int step = 0; step < 150; ++step) {
      const auto before = c.snapshot();
      const std::size_t nodes_before = c.size();
      const int op = static_cast<int>(gstest::uniform(rng, 0, 9));
      try {
        if (op == 0 || c.size() == 0) {
          c.add_node(gstest::random_node(rng, "n" + std::to_string(next_node++)));
        } else if (op == 1) {
          const auto& n = c.nodes()[static_cast<std::size_t>(gstest::uniform(rng, 0, static_cast<std::int64_t>(c.size()) - 1))];
          const std::string name = n.name;
          bool busy = false;
          for (const auto& kv : ref) busy = busy || kv.second.node == name;
          if (busy) {
            REQUIRE_THROWS_AS(c.remove_node(name), ConflictError);
          } else {
            c.remove_node(name);
            REQUIRE_FALSE(c.find_node(name));
          }
        } else if (op == 2) {
          const std::size_t i = static_cast<std::size_t>(gstest::uniform(rng, 0, static_cast<std::int64_t>(c.size()) - 1));
          const int g = static_cast<int>(c.nodes()[i].gpus.size());
          if (g) c.set_gpu_healthy(i, static_cast<int>(gstest::uniform(rng, 0, g - 1)), gstest::uniform(rng, 0, 2) != 0);
        } else if (op <= 6) {
          gpushare::AnyPolicy p = make_policy(policy_names()[static_cast<std::size_t>(gstest::uniform(rng, 0, 4))], 1);
          Request r = gstest::random_request(rng, "r" + std::to_string(step));
          auto res = schedule(c, r, p);
          if (res) {
            c.allocate(*res.placement);
            ref[r.name] = *res.placement;
          }
        } else if (!ref.empty()) {
          auto it = ref.begin();
          std::advance(it, gstest::uniform(rng, 0, static_cast<std::int64_t>(ref.size()) - 1));
          c.release(it->first);
          ref.erase(it);
        }
      } catch (const ConflictError&) {
        REQUIRE(c.snapshot() == before);
        REQUIRE(c.size() == nodes_before);
      }
      // Reference comparison: same live requests on the same nodes and GPUs, usage recomputed.
      REQUIRE(c.allocation_count() == ref.size());
      for (const auto& kv : ref) {
        const Placement* p = c.allocation(kv.first);
        REQUIRE(p);
        REQUIRE(p->node == kv.second.node);
        REQUIRE(p->gpus == kv.second.gpus);
        REQUIRE(c.nodes()[p->node_index].name == p->node);
      }
      REQUIRE(c.snapshot() == gstest::recompute(c));
      check_within_capacity(c);
    }
  }
}

TEST_CASE("remove_node keeps work on GPUs that turned unhealthy elsewhere", "[regression]") {
  // Regression: remove_node rebuilt the cluster through allocate(), which refuses unhealthy
  // GPUs, so removing any node threw when another node had work on an unhealthy GPU.
  Cluster c;
  for (const char* name : {"a", "b"}) {
    Node n{name, 8000, 32768, {}, {}};
    n.gpus.push_back({0, "T4", 1000, 16384});
    c.add_node(n);
  }
  c.allocate(Placement{"job", "b", 1, {0}, 300, 0, 0, 0});
  c.set_gpu_healthy(1, 0, false);
  c.remove_node("a");
  REQUIRE(c.size() == 1);
  REQUIRE(c.allocation("job")->node_index == 0);
  CHECK(c.free_milli(0, 0) == 700);
  CHECK_FALSE(c.nodes()[0].gpus[0].healthy);
  CHECK(c.free_gpu_index().size() == 0);
  CHECK_THROWS_WITH(c.remove_node("b"), Catch::Contains("request job is still allocated on it"));
  CHECK_THROWS_AS(c.remove_node("zz"), NotFound);
}
