// Builds against the installed package and places one request; exits non-zero on failure.
#include <gpushare/gpushare.hpp>

#include <iostream>

int main() {
  gpushare::Cluster c;
  gpushare::Node n{"n1", 16000, 65536, {}, {}};
  n.gpus.push_back({0, "T4", 1000, 16384});
  c.add_node(n);
  gpushare::Request r;
  r.name = "job";
  r.gpu = {1, 500, 4096};
  auto res = gpushare::schedule(c, r, gpushare::BestFit{});
  if (!res) return 1;
  c.allocate(*res.placement);
  std::cout << "gpushare " << gpushare::version() << ": " << *res.placement << "\n";
  return c.free_milli(0, 0) == 500 ? 0 : 1;
}
