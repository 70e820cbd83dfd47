// GoRand against numbers printed by Go 1.19's math/rand (rand.New(rand.NewSource(seed)) and the
// global source after rand.Seed), so the test needs no Go toolchain. Each block replays one Go
// program's calls in the same order: the source state carries over between the checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "gpushare/sim/go_rand.hpp"

using gpushare::sim::GoRand;

namespace {
std::vector<int> shuffled10(GoRand& r) {
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  r.shuffle(v.size(), [&](size_t i, size_t j) { std::swap(v[i], v[j]); });
  return v;
}

struct Expected {
  int64_t seed;
  std::vector<int64_t> int63, intn1213, int63n_3e18, intn64;
  std::vector<double> float64;
  std::vector<int> shuffle10;
  std::vector<int64_t> perm10;
  int64_t last_int;
};

// Per seed, in this order: 5 x Int63, 5 x Intn(1213), 3 x Int63n(3e18), 3 x Intn(64),
// 3 x Float64, Shuffle of 0..9, Perm(10), Int.
void check(const Expected& e) {
  GoRand r(e.seed);
  for (int64_t v : e.int63) CHECK(r.int63() == v);
  for (int64_t v : e.intn1213) CHECK(r.intn(1213) == v);
  for (int64_t v : e.int63n_3e18) CHECK(r.int63n(3000000000000000000LL) == v);
  for (int64_t v : e.intn64) CHECK(r.intn(64) == v);
  for (double v : e.float64) CHECK(r.float64() == Approx(v).epsilon(1e-15));
  CHECK(shuffled10(r) == e.shuffle10);
  CHECK(r.perm(10) == e.perm10);
  CHECK(r.int63() == e.last_int);
}
}  // namespace

TEST_CASE("GoRand draws Go's math/rand numbers for several seeds") {
  check({0,
         {8717895732742165505LL, 2259404117704393152LL, 6050128673802995827LL, 501233450539197794LL,
          3390393562759376202LL},
         {487, 584, 968, 868, 862},
         {2661732831099943416LL, 2325060299420976708LL, 1837839688282259259LL},
         {28, 56, 14},
         {0.77465423918598031, 0.017480762156647272, 0.78707395630399424},
         {6, 0, 4, 2, 5, 1, 9, 8, 3, 7},
         {9, 7, 8, 2, 5, 3, 6, 0, 1, 4},
         5001958211167890979LL});
  check({1,
         {5577006791947779410LL, 8674665223082153551LL, 6129484611666145821LL, 4037200794235010051LL,
          3916589616287113937LL},
         {33, 186, 240, 1107, 597},
         {1751997750760398084LL, 1504504064263669287LL, 1976235410884491574LL},
         {49, 24, 26},
         {0.28303415118044517, 0.29310185733681576, 0.67908467592021626},
         {6, 0, 7, 4, 8, 5, 3, 9, 1, 2},
         {3, 9, 4, 6, 7, 5, 8, 1, 0, 2},
         6382800227808658932LL});
  check({42,
         {3440579354231278675LL, 608747136543856411LL, 5571782338101878760LL, 1926012586526624009LL,
          404153945743547657LL},
         {932, 1140, 329, 734, 649},
         {784982874943501314LL, 2010156224608899041LL, 335934666146214990LL},
         {28, 12, 45},
         {0.71236586788309963, 0.71590608047970172, 0.94167121455231184},
         {5, 4, 6, 0, 3, 8, 7, 2, 1, 9},
         {8, 6, 7, 0, 2, 4, 1, 9, 5, 3},
         1398083032764859219LL});
  check({-7,
         {747107023976529931LL, 7084732931963018726LL, 6995717851144434728LL, 814608651260322299LL,
          2783162703872624372LL},
         {491, 1167, 680, 720, 492},
         {1993019207000234381LL, 2636651510254353112LL, 1885208135646433487LL},
         {12, 8, 40},
         {0.30457556999749213, 0.12650857169008201, 0.1481145256536241},
         {2, 9, 4, 6, 3, 7, 1, 5, 0, 8},
         {2, 6, 7, 8, 1, 3, 4, 5, 0, 9},
         5155593424686885498LL});
}

TEST_CASE("GoRand reduces seeds modulo 2^31-1 and maps 0 like Go") {
  GoRand a(2147483647), b(0), c(2147483648LL), d(1), e(9223372036854775807LL);
  for (int i = 0; i < 20; ++i) {
    CHECK(a.int63() == b.int63());
    const int64_t v = d.int63();
    CHECK(c.int63() == v);
    CHECK(e.int63() == v);
  }
  GoRand f(5);
  const int64_t first = f.int63();
  f.int63();
  f.reseed(5);
  CHECK(f.int63() == first);
}

TEST_CASE("GoRand rejection paths match Go (bounds that reject about half the draws)") {
  // Int31n(2^30+1) x6, Int63n(2^62+1) x6, Intn(2^40+3) x3 (the Int63n path), Int31, Uint32.
  GoRand r3(3);
  for (int32_t v : {470452779, 918335916, 698121144, 1005960747, 752280866, 750220327}) CHECK(r3.int31n((1 << 30) + 1) == v);
  for (int64_t v : {4397698935759010225LL, 4606591545819498401LL, 3698521211491942941LL, 3738357500160082556LL,
                    652167373221711780LL, 1716385989974237885LL})
    CHECK(r3.int63n((int64_t(1) << 62) + 1) == v);
  for (int64_t v : {550867844638LL, 618949296727LL, 834792571253LL}) CHECK(r3.intn((int64_t(1) << 40) + 3) == v);
  CHECK(r3.int31() == 1276555807);
  CHECK(r3.uint32() == 602032381u);

  GoRand r42(42);
  for (int32_t v : {801072305, 141734987, 448434750, 94099423, 822901345, 825591176}) CHECK(r42.int31n((1 << 30) + 1) == v);
  for (int64_t v : {3532963341805492868LL, 2010156224608899041LL, 3335934666146214990LL, 1118224062840270781LL,
                    4299969443970870044LL, 1100641557378252013LL})
    CHECK(r42.int63n((int64_t(1) << 62) + 1) == v);
  for (int64_t v : {94587836565LL, 845143146516LL, 392075775094LL}) CHECK(r42.intn((int64_t(1) << 40) + 3) == v);
  CHECK(r42.int31() == 1401366544);
  CHECK(r42.uint32() == 180293723u);
}

TEST_CASE("GoRand int31n_lemire is the draw Go's Shuffle makes") {
  // Go: r.Shuffle(2^30+1, ...) records the j of its first 8 swaps (i = n-1, n-2, ...), i.e.
  // int31n(n), int31n(n-1), ...; about a quarter of these draws hit the rejection loop.
  const int32_t n = (1 << 30) + 1;
  const std::vector<std::pair<int64_t, std::vector<int32_t>>> want = {
      {3, {773075504, 700756988, 1011422447, 824780923, 959423886, 235226388, 459167955, 545123755}},
      {42, {70867493, 648640834, 224217374, 47049711, 411450671, 872820175, 412795586, 411291061}}};
  for (const auto& w : want) {
    GoRand r(w.first);
    for (size_t k = 0; k < w.second.size(); ++k) CHECK(r.int31n_lemire(n - int32_t(k)) == w.second[k]);
  }
}

TEST_CASE("GoRand long sequences: the global source after rand.Seed(42), a 8152-pod shuffle, Perm(1213)") {
  GoRand g(42);  // rand.Seed(42); rand.Int(); rand.Intn(8152)
  CHECK(g.int63() == 3440579354231278675LL);
  CHECK(g.intn(8152) == 4315);

  GoRand r(42);
  std::vector<int> v(8152);
  std::iota(v.begin(), v.end(), 0);
  r.shuffle(v.size(), [&](size_t i, size_t j) { std::swap(v[i], v[j]); });
  CHECK(std::vector<int>(v.begin(), v.begin() + 8) == std::vector<int>{1767, 3686, 33, 4050, 5226, 7620, 5822, 6464});
  CHECK(r.int63() == 662755434426826905LL);
  const std::vector<int64_t> p = r.perm(1213);
  CHECK(std::vector<int64_t>(p.begin(), p.begin() + 8) ==
        std::vector<int64_t>{496, 1123, 900, 308, 233, 1090, 553, 232});
  CHECK(r.int63() == 6846644748374914452LL);
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) REQUIRE(sorted[i] == int64_t(i));
}

TEST_CASE("GoRand rejects the bounds Go panics on") {
  GoRand r(1);
  CHECK_THROWS_AS(r.intn(0), gpushare::InvalidArgument);
  CHECK_THROWS_AS(r.int31n(-3), gpushare::InvalidArgument);
  CHECK_THROWS_AS(r.int63n(0), gpushare::InvalidArgument);
  CHECK_THROWS_AS(r.int31n_lemire(0), gpushare::InvalidArgument);
  CHECK_THROWS_AS(r.perm(-1), gpushare::InvalidArgument);
  GoRand fresh(1);
  CHECK(r.int63() == fresh.int63());  // a rejected call draws nothing
}
