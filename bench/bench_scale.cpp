// Trace-simulator scaling: one replay of the openb default trace (seed 42, protocol mode: pods
// resampled to 1.3x the cluster's GPU capacity) on the openb GPU node list repeated k times
// (k = 1, 4, 10, 100 by default; copies are named <name>-r<copy>, copy 0 keeps the original
// name so 1x is the study's cluster). The pod count grows with the cluster, so linear cost in
// the cluster size is the best possible.
//
// Each scale runs in its own child process, so the peak resident memory reported is that
// scale's alone (wait4's rusage of the child). Times are the best of --repeat runs (the machine
// is shared); the growth exponent between two scales is log(t2 / t1) / log(k2 / k1).
//
// @code
//   build/bench/bench_scale                                   # 1,4,10,100 x FGD,BestFit,best
//   build/bench/bench_scale --scales 1,10 --policies FGD --repeat 3
// @endcode
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gpushare/catalogue.hpp"
#include "gpushare/sim/replay.hpp"

using namespace gpushare::sim;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ','))
    if (!x.empty()) out.push_back(x);
  return out;
}

/// The node list repeated k times; copy 0 keeps the original names.
std::vector<SimNode> repeat_nodes(const std::vector<SimNode>& base, int k) {
  std::vector<SimNode> out;
  out.reserve(base.size() * size_t(k));
  for (int c = 0; c < k; ++c)
    for (SimNode n : base) {
      if (c > 0) n.name += "-r" + std::to_string(c);
      out.push_back(std::move(n));
    }
  return out;
}

struct Row { double seconds = 0, cpu = 0; int64_t placed = 0, submitted = 0; };

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::getenv("GPUSHARE_DATA_DIR") ? std::getenv("GPUSHARE_DATA_DIR") : "../shared/data";
  std::vector<std::string> scales{"1", "4", "10", "100"}, policies{"FGD", "BestFit", "best"};
  int repeat = 3;
  uint64_t seed = 42;
  std::string trace = "default";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "bench_scale: %s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--scales") scales = split(val());
    else if (a == "--policies") policies = split(val());
    else if (a == "--repeat") repeat = std::max(1, std::atoi(val().c_str()));
    else if (a == "--seed") seed = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--trace") trace = val();
    else if (a == "--data") dir = val();
    else {
      std::fprintf(stderr, "usage: bench_scale [--scales 1,4,10,100] [--policies FGD,BestFit,best] [--repeat 3] "
                           "[--seed 42] [--trace default] [--data ../shared/data]\n");
      return 2;
    }
  }
  const auto nodes = load_openb_nodes(dir + "/openb/openb_node_list_gpu_node.csv");
  const auto pods = load_openb_pods(dir + "/openb/openb_pod_list_" + trace + ".csv");

  std::map<std::string, std::map<int, Row>> rows;  // policy -> scale -> best row
  std::map<int, long> peak_kib;
  std::map<int, size_t> node_count;
  for (const std::string& sc : scales) {
    const int k = std::atoi(sc.c_str());
    if (k < 1) { std::fprintf(stderr, "bench_scale: scale '%s' is not a positive integer\n", sc.c_str()); return 2; }
    int fd[2];
    if (pipe(fd) != 0) { std::perror("pipe"); return 1; }
    const pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      const Replayer r(repeat_nodes(nodes, k), pods);
      std::string out;
      for (const std::string& p : policies) {
        Row best;
        best.seconds = 1e300;
        for (int rep = 0; rep < repeat; ++rep) {
          const auto t0 = std::chrono::steady_clock::now();
          const double c0 = cpu_now();
          const ReplayResult res = r.run(sim_policy(p), seed);
          const double c = cpu_now() - c0;
          const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          if (s < best.seconds) best = {s, c, res.pods_placed, res.pods_submitted};
        }
        out += p + " " + std::to_string(best.seconds) + " " + std::to_string(best.cpu) + " " +
               std::to_string(best.placed) + " " +
               std::to_string(best.submitted) + "\n";
      }
      if (write(fd[1], out.data(), out.size()) != ssize_t(out.size())) _exit(1);
      close(fd[1]);
      _exit(0);
    }
    close(fd[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = read(fd[0], buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
    close(fd[0]);
    int status = 0;
    struct rusage ru {};
    wait4(pid, &status, 0, &ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "bench_scale: scale %d failed\n", k);
      return 1;
    }
    peak_kib[k] = ru.ru_maxrss;
    node_count[k] = nodes.size() * size_t(k);
    std::istringstream in(text);
    std::string p;
    Row row;
    while (in >> p >> row.seconds >> row.cpu >> row.placed >> row.submitted) rows[p][k] = row;
    std::fprintf(stderr, "scale %dx done\n", k);
  }

  std::printf("trace %s, seed %llu, best of %d run(s) per cell (wall time; the run's CPU time beside it)\n\n", trace.c_str(), (unsigned long long)seed, repeat);
  std::printf("| scale | nodes | pods submitted | peak RSS |");
  for (const auto& p : policies) std::printf(" %s |", p.c_str());
  std::printf("\n|---:|---:|---:|---:|");
  for (size_t i = 0; i < policies.size(); ++i) std::printf("---:|");
  std::printf("\n");
  int prev = 0;
  for (const std::string& sc : scales) {
    const int k = std::atoi(sc.c_str());
    std::printf("| %dx | %zu | %lld | %.0f MiB |", k, node_count[k], (long long)rows[policies[0]][k].submitted,
                double(peak_kib[k]) / 1024.0);
    for (const auto& p : policies) {
      const Row& r = rows[p][k];
      std::printf(" %.3f s (cpu %.3f s)", r.seconds, r.cpu);
      if (prev > 0) {
        const Row& q = rows[p][prev];
        std::printf(" (%.1fx, exp %.2f)", r.seconds / q.seconds, std::log(r.seconds / q.seconds) / std::log(double(k) / prev));
      }
      std::printf(" |");
    }
    std::printf("\n");
    prev = k;
  }
  return 0;
}
