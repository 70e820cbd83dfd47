// One replay (seed 42) of the openb default trace per policy named on the command line: the
// program whose instruction count docs/PERFORMANCE.md compares with callgrind.  It compiles
// against older trees too (before gpushare/catalogue.hpp existed, sim_policy was in sim/).
//
//   g++ -std=c++17 -O3 -DNDEBUG -Iinclude bench/callgrind_replay.cpp -o /tmp/replay_once
//   valgrind --tool=callgrind /tmp/replay_once FGD
#include <cstdio>
#include <cstdlib>
#include <string>
#include "gpushare/sim/replay.hpp"
#if __has_include("gpushare/catalogue.hpp")
#include "gpushare/catalogue.hpp"
#endif
int main(int argc, char** argv) {
  using namespace gpushare::sim;
  const char* env = std::getenv("OPENB_DIR");
  const std::string d = env ? env : "../shared/data/openb";
  Replayer r(load_openb_nodes(d + "/openb_node_list_gpu_node.csv"), load_openb_pods(d + "/openb_pod_list_default.csv"));
  for (int i = 1; i < argc; ++i) {
    auto res = r.run(sim_policy(argv[i]), 42);
    std::printf("%s %lld\n", argv[i], (long long)res.allocated_milli);
  }
}
