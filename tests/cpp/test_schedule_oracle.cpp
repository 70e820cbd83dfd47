// GPU choice and node policies against a brute-force oracle that enumerates every node and
// every subset of its GPUs, on 10,000+ seeded random clusters and requests per policy.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <tuple>

#include "helpers.hpp"

using namespace gpushare;

namespace {

struct Candidate {
  std::size_t node;
  std::vector<int> gpus;
  std::int64_t rem_milli, rem_mib;
};

bool fits(const NodeView& v, int g, const Request& r) {
  const Gpu& gpu = v.gpu(g);
  bool model_ok = true;
  if (!r.allowed_models.empty())
    model_ok = std::find(r.allowed_models.begin(), r.allowed_models.end(), gpu.model) != r.allowed_models.end();
  if (std::find(r.denied_models.begin(), r.denied_models.end(), gpu.model) != r.denied_models.end()) model_ok = false;
  return gpu.healthy && model_ok && v.free_milli[g] >= r.gpu.milli && v.free_mib[g] >= r.gpu.mib;
}

// Every feasible GPU subset of size count, as sorted index lists, in lexicographic order.
std::vector<Candidate> subsets(const NodeView& v, const Request& r) {
  std::vector<Candidate> out;
  const int n = v.gpu_count();
  for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != r.gpu.count) continue;
    Candidate c{v.index, {}, 0, 0};
    bool ok = true;
    for (int g = 0; g < n && ok; ++g) {
      if (!(mask >> g & 1u)) continue;
      ok = fits(v, g, r);
      c.gpus.push_back(g);
      c.rem_milli += v.free_milli[g] - r.gpu.milli;
      c.rem_mib += v.free_mib[g] - r.gpu.mib;
    }
    if (ok) out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) { return a.gpus < b.gpus; });
  return out;
}

std::optional<Candidate> oracle_gpus(const NodeView& v, const Request& r, GpuFit fit) {
  if (v.free_cpu_milli < r.cpu_milli || v.free_host_mib < r.host_mib) return std::nullopt;
  auto all = subsets(v, r);
  if (all.empty()) return std::nullopt;
  std::optional<Candidate> best;
  for (const auto& c : all) {  // lexicographic order: strict improvement keeps the smallest index list
    if (!best) { best = c; continue; }
    auto key = [&](const Candidate& x) { return std::make_tuple(x.rem_milli, x.rem_mib); };
    if (fit == GpuFit::best && key(c) < key(*best)) best = c;
    if (fit == GpuFit::worst && key(c) > key(*best)) best = c;
  }
  return best;
}

double share(std::int64_t used, std::int64_t total) { return total > 0 ? double(used) / double(total) : 0.0; }

std::pair<double, double> util_after(const NodeView& v, const Request& r, const Candidate& c) {
  std::int64_t total = 0, used = 0;
  for (int g = 0; g < v.gpu_count(); ++g) {
    total += v.gpu(g).milli_total;
    used += v.gpu(g).milli_total - v.free_milli[g];
  }
  used += r.gpu.milli * static_cast<std::int64_t>(c.gpus.size());
  const Node& n = *v.node;
  double cpu = share(n.cpu_milli - v.free_cpu_milli + r.cpu_milli, n.cpu_milli);
  double mem = share(n.host_mib - v.free_host_mib + r.host_mib, n.host_mib);
  return {share(used, total), (cpu + mem) / 2};
}

enum class Kind { first, best, binpack, spread };

std::optional<Candidate> oracle(const Cluster& cl, const Request& r, Kind kind) {
  const GpuFit fit = kind == Kind::first ? GpuFit::first : kind == Kind::spread ? GpuFit::worst : GpuFit::best;
  std::optional<Candidate> best;
  std::pair<double, double> best_score{};
  for (std::size_t i = 0; i < cl.size(); ++i) {
    const NodeView v = cl.view(i);
    auto c = oracle_gpus(v, r, fit);
    if (!c) continue;
    std::pair<double, double> s{0, 0};
    switch (kind) {
      case Kind::first: break;
      case Kind::best:
        s = r.gpu.count == 0 ? std::make_pair(-double(v.free_cpu_milli - r.cpu_milli), -double(v.free_host_mib - r.host_mib))
                             : std::make_pair(-double(c->rem_milli), -double(c->rem_mib));
        break;
      case Kind::binpack: s = util_after(v, r, *c); break;
      case Kind::spread: {
        auto u = util_after(v, r, *c);
        s = {-u.first, -u.second};
        break;
      }
    }
    if (!best || s > best_score) {
      best = c;
      best_score = s;
    }
  }
  return best;
}

template <class P>
void check_policy(Kind kind, P policy, std::uint64_t seed, bool use_index) {
  std::mt19937_64 rng(seed);
  int placed = 0, failed = 0;
  for (int t = 0; t < 10000; ++t) {
    const int nodes = static_cast<int>(gstest::uniform(rng, 0, 6));
    Cluster cl = gstest::random_cluster(rng, nodes, 8, static_cast<int>(gstest::uniform(rng, 0, 20)));
    Request r = gstest::random_request(rng, "probe");
    ScheduleOptions opt;
    opt.use_index = use_index;
    ScheduleResult got = schedule(cl, r, policy, opt);
    auto want = oracle(cl, r, kind);
    INFO("case " << t << " request " << r << " cluster " << cl.size() << " nodes");
    REQUIRE(got.placement.has_value() == want.has_value());
    if (want) {
      ++placed;
      REQUIRE(got.placement->node_index == want->node);
      REQUIRE(got.placement->gpus == want->gpus);
      REQUIRE_NOTHROW(cl.allocate(*got.placement));
    } else {
      ++failed;
      REQUIRE(got.rejections.size() == cl.size());
    }
  }
  // The generator must exercise both outcomes substantially, or the test proves little.
  CHECK(placed > 2000);
  CHECK(failed > 1000);
}

}  // namespace

TEST_CASE("first fit matches the brute-force oracle", "[oracle]") { check_policy(Kind::first, FirstFit{}, 1, true); }
TEST_CASE("first fit without early exit matches the oracle", "[oracle]") { check_policy(Kind::first, FirstFit{}, 2, false); }
TEST_CASE("best fit (index path) matches the brute-force oracle", "[oracle]") { check_policy(Kind::best, BestFit{}, 3, true); }
TEST_CASE("best fit (plain scan) matches the brute-force oracle", "[oracle]") { check_policy(Kind::best, BestFit{}, 4, false); }
TEST_CASE("binpack matches the brute-force oracle", "[oracle]") { check_policy(Kind::binpack, BinPack{}, 5, true); }
TEST_CASE("spread matches the brute-force oracle", "[oracle]") { check_policy(Kind::spread, Spread{}, 6, true); }

TEST_CASE("GPU choice inside a node matches the oracle for every rule", "[oracle]") {
  std::mt19937_64 rng(7);
  for (int t = 0; t < 10000; ++t) {
    Cluster cl = gstest::random_cluster(rng, 1, 10, static_cast<int>(gstest::uniform(rng, 0, 10)));
    Request r = gstest::random_request(rng, "probe", 6);
    const NodeView v = cl.view(0);
    for (GpuFit fit : {GpuFit::best, GpuFit::worst, GpuFit::first}) {
      GpuChoice c;
      const bool ok = choose_gpus(v, r, fit, c);
      // choose_gpus ignores CPU and host memory: compare against the subset oracle alone.
      auto all = subsets(v, r);
      INFO("case " << t << " fit " << to_string(fit) << " " << r);
      REQUIRE(ok == !all.empty());
      if (!ok) continue;
      Request no_host = r;
      no_host.cpu_milli = 0;
      no_host.host_mib = 0;
      auto want = oracle_gpus(v, no_host, fit);
      REQUIRE(want);
      REQUIRE(c.gpus == want->gpus);
      REQUIRE(c.remaining_milli == want->rem_milli);
      REQUIRE(c.remaining_mib == want->rem_mib);
    }
  }
}

TEST_CASE("random policy picks only feasible nodes, uniformly, reproducibly", "[random]") {
  Cluster cl;
  for (int i = 0; i < 5; ++i) {
    Node n{"n" + std::to_string(i), 8000, 65536, {}, {}};
    n.gpus.push_back({0, "T4", 1000, 16384});
    cl.add_node(n);
  }
  // Node 2 cannot take the request.
  cl.allocate(Placement{"blocker", "n2", 2, {0}, 1000, 0, 0, 0});
  Request r;
  r.name = "probe";
  r.gpu = {1, 500, 0};
  std::vector<int> hits(5, 0);
  Random a(123), b(123);
  for (int t = 0; t < 20000; ++t) {
    auto ra = schedule(cl, r, a);
    auto rb = schedule(cl, r, b);
    REQUIRE(ra.placement == rb.placement);
    ++hits[ra.placement->node_index];
  }
  CHECK(hits[2] == 0);
  for (int i : {0, 1, 3, 4}) {  // expected 5000 each; 4.5 sigma is about +-275
    CHECK(hits[i] > 4700);
    CHECK(hits[i] < 5300);
  }
  Random c(124);
  bool differs = false;
  Random d(123);
  for (int t = 0; t < 50 && !differs; ++t) differs = schedule(cl, r, c).placement != schedule(cl, r, d).placement;
  CHECK(differs);
}

TEST_CASE("policies by name", "[registry]") {
  std::mt19937_64 rng(9);
  for (int t = 0; t < 200; ++t) {
    Cluster cl = gstest::random_cluster(rng, 4);
    Request r = gstest::random_request(rng, "probe");
    AnyPolicy bf = make_policy("best-fit");
    CHECK(schedule(cl, r, bf).placement == schedule(cl, r, BestFit{}).placement);
    AnyPolicy bp = make_policy("binpack");
    CHECK(schedule(cl, r, bp).placement == schedule(cl, r, BinPack{}).placement);
    AnyPolicy rnd = make_policy("random", 5);
    CHECK(schedule(cl, r, rnd).placement == schedule(cl, r, Random{5}).placement);
  }
  CHECK_THROWS_WITH(make_policy("bestfit"), Catch::Contains("unknown name 'bestfit'") && Catch::Contains("best-fit"));
}
