// Replay the openb default trace with the six policies of the FGD study and print the
// unallocated GPU % at 100% arrived demand (median over seeds).
//   replay_demo [data_dir] [first_seed] [n_seeds] [pod_csv] [csv_out]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/replay.hpp"

int main(int argc, char** argv) {
  using namespace gpushare::sim;
  const std::string dir = argc > 1 ? argv[1] : "../shared/data/openb";
  const int first = argc > 2 ? std::stoi(argv[2]) : 42;
  const int count = argc > 3 ? std::stoi(argv[3]) : 3;
  const std::string podfile = argc > 4 ? argv[4] : "openb_pod_list_default.csv";
  const std::string csv_out = argc > 5 ? argv[5] : "";
  Replayer r(load_openb_nodes(dir + "/openb_node_list_gpu_node.csv"), load_openb_pods(dir + "/" + podfile));
  std::ofstream csv;
  if (!csv_out.empty()) {
    csv.open(csv_out);
    csv << "policy,seed,arrived_pct,allocated_pct,unallocated_pct,fragmentation_pct\n";
  }
  std::printf("%-14s %10s %10s %8s\n", "policy", "unalloc%", "frag%", "seconds");
  for (const auto& name : sim_policy_names()) {
    std::vector<double> un, fr;
    auto t0 = std::chrono::steady_clock::now();
    for (int s = first; s < first + count; ++s) {
      ReplayResult res = r.run(sim_policy(name), uint64_t(s));
      un.push_back(res.steps[100].unallocated_pct);
      fr.push_back(res.steps[100].fragmentation_pct);
      if (csv)
        for (const auto& m : res.steps)
          csv << name << ',' << s << ',' << m.arrived_pct << ',' << m.allocated_pct << ',' << m.unallocated_pct << ','
              << m.fragmentation_pct << '\n';
    }
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%-14s %10.2f %10.2f %8.2f\n", name.c_str(), median(un), median(fr), sec);
  }
  return 0;
}
