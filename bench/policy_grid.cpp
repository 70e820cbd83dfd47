// Two policies side by side on many pod lists (for example the variants written by
// `gpushare variants grid`): per pod list, the median over seeds of the unallocated GPU % at
// 100% arrived demand for each policy, their difference, and the worst difference between 80%
// and 100% arrived (positive = the second policy leaves more unallocated).
//   policy_grid NODE_CSV FIRST_SEED N_SEEDS POLICY_A POLICY_B POD_CSV[@NODE_CSV]...
// (a pod list given as PODS@NODES is replayed on that node list instead of NODE_CSV)
// Prints one tab-separated line per pod list: file, A, B, B - A at 100%, worst B - A over
// 80..100% and the step where it is. One thread; run it with nice on a shared machine.
// GRID_DIAG=1 also prints, per seed, the idle GPU milli per node type (model/GPUs/cores) at
// the end of each replay. Besides the registered policies it knows four diagnosis variants
// used in docs/BEST_POLICY.md ("What the grid found"): X_learned_fgd (FGD's measure on the
// target learned online), X_fgd_strand (FGD's target + the CPU-stranding term, weight
// STRAND_W, default 1), X_fgd_strand_tb (the same, stranding only as a tie-break of FGD's
// points) and X_fgd_strand_pm (stranding with the CPU per GPU of the shapes the node's model
// accepts).
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/replay.hpp"

int main(int argc, char** argv) {
  using namespace gpushare::sim;
  if (argc < 7) {
    std::fprintf(stderr, "usage: policy_grid NODE_CSV FIRST_SEED N_SEEDS POLICY_A POLICY_B POD_CSV[@NODE_CSV]...\n");
    return 2;
  }
  // Experimental variants (diagnosis only): kept here, not in the catalogue.
  std::map<std::string, SimPolicy> experimental;
  auto register_sim_policy = [&](SimPolicy p) { experimental.emplace(p.name, std::move(p)); };
  auto lookup = [&](const std::string& name) -> const SimPolicy& {
    auto it = experimental.find(name);
    return it != experimental.end() ? it->second : gpushare::sim::sim_policy(name);
  };
  register_sim_policy({"X_learned_fgd", [](const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* g) {
                         auto f = [&](int64_t c, const int16_t* l, int k, int m) { return node_frag(c, l, k, m, tw); };
                         return gradient_score(n, s, f, detail::gradient_points, g);
                       }, false, false, GpuSelect::from_score, "", true});
  register_sim_policy({"X_fgd_strand", [](const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* g) {
                         const double cpg = cpu_per_gpu(tw);
                         auto f = [&](int64_t c, const int16_t* l, int k, int m) {
                           static const double w = std::getenv("STRAND_W") ? std::atof(std::getenv("STRAND_W")) : 1.0;
                           return node_frag(c, l, k, m, tw) + w * cpu_stranded_milli(c, l, k, cpg);
                         };
                         return gradient_score(n, s, f, detail::gradient_points, g);
                       }, false, false, GpuSelect::from_score, "", false});
  register_sim_policy({"X_fgd_strand_tb", [](const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* g) {
                         static const double w = std::getenv("STRAND_W") ? std::atof(std::getenv("STRAND_W")) : 1.0;
                         const double cpg = cpu_per_gpu(tw);
                         auto f = [&](int64_t c, const int16_t* l, int k, int m) { return node_frag(c, l, k, m, tw); };
                         auto st = [&](int64_t c, const int16_t* l, int k) { return w * cpu_stranded_milli(c, l, k, cpg); };
                         const double b1 = f(n.cpu_left, n.left.data(), n.gpus, n.model), b2 = b1 + st(n.cpu_left, n.left.data(), n.gpus);
                         int16_t left[kMaxGpusPerNode];
                         for (int q = 0; q < n.gpus; ++q) left[q] = n.left[q];
                         const int64_t ca = n.cpu_left - s.cpu;
                         auto pts = [&]() {
                           const double a1 = f(ca, left, n.gpus, n.model), a2 = a1 + st(ca, left, n.gpus);
                           return detail::gradient_points(b1, a1) * 1000 + detail::gradient_points(b2, a2);
                         };
                         if (s.is_share()) {
                           int64_t best = -1; int bg = -1;
                           for (int q = 0; q < n.gpus; ++q) {
                             if (n.left[q] < s.milli) continue;
                             left[q] = int16_t(n.left[q] - s.milli);
                             const int64_t sc = pts();
                             left[q] = n.left[q];
                             if (sc > best) { best = sc; bg = q; }
                           }
                           if (g) *g = bg;
                           return best;
                         }
                         int ids[kMaxGpusPerNode];
                         const int k = exclusive_gpus(n, s, ids);
                         for (int q = 0; q < k; ++q) left[ids[q]] = int16_t(left[ids[q]] - s.milli);
                         return pts();
                       }, false, false, GpuSelect::from_score, "", false});
  register_sim_policy({"X_fgd_strand_pm", [](const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* g) {
                         double c = 0, gg = 0;
                         for (const auto& ts : tw.shapes)
                           if (ts.shape.num > 0 && ts.shape.accepts_model(n.model)) {
                             c += ts.weight * double(ts.shape.cpu);
                             gg += ts.weight * double(ts.shape.total_milli());
                           }
                         const double cpg = gg > 0 ? c / gg * 1000.0 : 0.0;
                         auto f = [&](int64_t c2, const int16_t* l, int k, int m) {
                           return node_frag(c2, l, k, m, tw) + cpu_stranded_milli(c2, l, k, cpg);
                         };
                         return gradient_score(n, s, f, detail::gradient_points, g);
                       }, false, false, GpuSelect::from_score, "", false});
  const auto nodes = load_openb_nodes(argv[1]);
  const int first = std::stoi(argv[2]), count = std::stoi(argv[3]);
  const SimPolicy& a = lookup(argv[4]);
  const SimPolicy& b = lookup(argv[5]);
  std::printf("file\t%s\t%s\tdiff100\tworst_gap\tworst_at\n", argv[4], argv[5]);
  for (int f = 6; f < argc; ++f) {
    std::string arg = argv[f], node_csv;
    const size_t at_sign = arg.find('@');
    if (at_sign != std::string::npos) node_csv = arg.substr(at_sign + 1), arg = arg.substr(0, at_sign);
    Replayer r(node_csv.empty() ? nodes : load_openb_nodes(node_csv), load_openb_pods(arg));
    std::vector<std::vector<double>> ua(101), ub(101);
    for (int s = first; s < first + count; ++s) {
      const ReplayResult ra = r.run(a, uint64_t(s)), rb = r.run(b, uint64_t(s));
      if (std::getenv("GRID_DIAG")) {  // idle GPU milli per node type at the end (130% arrived)
        const auto ns = node_csv.empty() ? nodes : load_openb_nodes(node_csv);
        std::map<std::string, std::array<int64_t, 3>> idle;
        for (size_t i = 0; i < ns.size(); ++i) {
          auto& e = idle[ns[i].model + "/" + std::to_string(ns[i].gpus) + "/" + std::to_string(ns[i].cpu_milli / 1000)];
          e[0] += ns[i].gpus * 1000;
          e[1] += ns[i].gpus * 1000 - ra.node_used_milli[i];
          e[2] += ns[i].gpus * 1000 - rb.node_used_milli[i];
        }
        for (const auto& e : idle)
          std::printf("  seed %d %-16s cap %7lld idle A %7lld B %7lld\n", s, e.first.c_str(), (long long)e.second[0],
                      (long long)e.second[1], (long long)e.second[2]);
      }
      for (int k = 80; k <= 100; ++k) {
        ua[size_t(k)].push_back(ra.steps[size_t(k)].unallocated_pct);
        ub[size_t(k)].push_back(rb.steps[size_t(k)].unallocated_pct);
      }
    }
    double gap = -1e9;
    int at = 0;
    for (int k = 80; k <= 100; ++k) {
      const double g = median(ub[size_t(k)]) - median(ua[size_t(k)]);
      if (g > gap) { gap = g; at = k; }
    }
    const double ma = median(ua[100]), mb = median(ub[100]);
    std::printf("%s\t%.2f\t%.2f\t%+.2f\t%+.2f\t%d\n", arg.c_str(), ma, mb, mb - ma, gap, at);
    std::fflush(stdout);
  }
  return 0;
}
