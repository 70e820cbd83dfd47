// HostReservingFGD ("best") against FGD and BestFit on every shipped openb trace: median over
// seeds of the unallocated GPU % at 100% arrived demand, the worst gap to FGD between 80% and
// 100% arrived, and the replay time of best relative to FGD (run side by side, one thread).
//   best_policy_table [data_dir] [first_seed] [n_seeds] [curves_csv] [node_csv]
// Prints markdown rows; curves_csv (optional, "" for none) gets the median curve per trace and
// policy; node_csv (default openb_node_list_gpu_node.csv) picks the cluster in data_dir.
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
  const int count = argc > 3 ? std::stoi(argv[3]) : 10;
  const std::string csv_out = argc > 4 ? argv[4] : "";
  const std::string node_csv = argc > 5 ? argv[5] : "openb_node_list_gpu_node.csv";
  const std::vector<std::string> traces{"default",     "gpushare20",  "gpushare40",  "gpushare60",  "gpushare80",
                                        "gpushare100", "multigpu20",  "multigpu30",  "multigpu40",  "multigpu50",
                                        "cpu0",        "cpu037",      "cpu050",      "cpu072",      "cpu100",
                                        "cpu200",      "cpu235",      "cpu250",      "cpu300"};
  const std::vector<std::string> policies{"BestFit", "FGD", "best"};
  std::ofstream csv;
  if (!csv_out.empty()) {
    csv.open(csv_out);
    csv << "trace,policy,arrived_pct,median_unallocated_pct\n";
  }
  const auto nodes = load_openb_nodes(dir + "/" + node_csv);
  std::printf("| trace | BestFit | FGD | best | best - FGD | worst gap to FGD, 80..100%% arrived | time best/FGD |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& t : traces) {
    Replayer r(nodes, load_openb_pods(dir + "/openb_pod_list_" + t + ".csv"));
    std::vector<std::vector<std::vector<double>>> un(policies.size(), std::vector<std::vector<double>>(131));
    std::vector<double> sec(policies.size());
    for (int s = first; s < first + count; ++s)
      for (size_t p = 0; p < policies.size(); ++p) {  // interleaved: side by side under the same load
        const auto t0 = std::chrono::steady_clock::now();
        ReplayResult res = r.run(sim_policy(policies[p]), uint64_t(s));
        sec[p] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (int k = 0; k <= 130; ++k) un[p][size_t(k)].push_back(res.steps[size_t(k)].unallocated_pct);
      }
    double gap = -1e9;
    int gap_at = 0;
    for (int k = 80; k <= 100; ++k) {
      const double g = median(un[2][size_t(k)]) - median(un[1][size_t(k)]);
      if (g > gap) { gap = g; gap_at = k; }
    }
    const double bf = median(un[0][100]), fgd = median(un[1][100]), best = median(un[2][100]);
    std::printf("| %s | %.2f | %.2f | **%.2f** | %+.2f | %+.2f (at %d%%) | %.2fx |\n", t.c_str(), bf, fgd, best,
                best - fgd, gap, gap_at, sec[2] / sec[1]);
    std::fflush(stdout);
    if (csv)
      for (size_t p = 0; p < policies.size(); ++p)
        for (int k = 0; k <= 130; ++k) csv << t << ',' << policies[p] << ',' << k << ',' << median(un[p][size_t(k)]) << '\n';
  }
  return 0;
}
