// Python bindings of gpushare/sim: the openb loader and the trace replay (GIL released while
// replaying). The pandas-facing API is python/gpushare/sim.py.
#include <gpushare/catalogue.hpp>
#include <gpushare/sim/parallel_replay.hpp>

#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"

namespace py = pybind11;
using namespace gpushare::sim;

namespace gpushare_py {

void bind_sim(py::module_& m) {
  py::class_<SimNode>(m, "SimNode", "A node of the trace simulator (openb node-list row).")
      .def(py::init([](std::string name, int64_t cpu_milli, int64_t memory_mib, int gpus, std::string model) {
             SimNode n;
             n.name = std::move(name);
             n.cpu_milli = cpu_milli;
             n.memory_mib = memory_mib;
             n.gpus = gpus;
             n.model = std::move(model);
             return n;
           }),
           py::arg("name"), py::arg("cpu_milli"), py::arg("memory_mib"), py::arg("gpus"), py::arg("model") = "")
      .def_readonly("name", &SimNode::name)
      .def_readonly("cpu_milli", &SimNode::cpu_milli)
      .def_readonly("memory_mib", &SimNode::memory_mib)
      .def_readonly("gpus", &SimNode::gpus)
      .def_readonly("model", &SimNode::model)
      .def("__eq__", [](const SimNode& a, const SimNode& b) {
        return a.name == b.name && a.cpu_milli == b.cpu_milli && a.memory_mib == b.memory_mib && a.gpus == b.gpus &&
               a.model == b.model;
      })
      .def(py::pickle([](const SimNode& n) { return py::make_tuple(n.name, n.cpu_milli, n.memory_mib, n.gpus, n.model); },
                      [](const py::tuple& t) {
                        if (t.size() != 5) throw std::runtime_error("SimNode pickle: expected 5 fields");
                        SimNode n;
                        n.name = t[0].cast<std::string>();
                        n.cpu_milli = t[1].cast<int64_t>();
                        n.memory_mib = t[2].cast<int64_t>();
                        n.gpus = t[3].cast<int>();
                        n.model = t[4].cast<std::string>();
                        return n;
                      }))
      .def("__repr__", [](const SimNode& n) {
        std::ostringstream os;
        os << "SimNode('" << n.name << "', cpu_milli=" << n.cpu_milli << ", memory_mib=" << n.memory_mib
           << ", gpus=" << n.gpus << ", model='" << n.model << "')";
        return os.str();
      });

  py::class_<SimPod>(m, "SimPod", "A task of the trace simulator (openb pod-list row).")
      .def(py::init([](std::string name, int64_t cpu_milli, int64_t memory_mib, int num_gpu, int gpu_milli,
                       std::vector<std::string> gpu_spec, int64_t creation_time, int64_t deletion_time) {
             SimPod p;
             p.name = std::move(name);
             p.cpu_milli = cpu_milli;
             p.memory_mib = memory_mib;
             p.num_gpu = num_gpu;
             p.gpu_milli = gpu_milli;
             p.gpu_spec = std::move(gpu_spec);
             p.creation_time = creation_time;
             p.deletion_time = deletion_time;
             return p;
           }),
           py::arg("name"), py::arg("cpu_milli"), py::arg("memory_mib"), py::arg("num_gpu"), py::arg("gpu_milli"),
           py::arg("gpu_spec") = std::vector<std::string>{}, py::arg("creation_time") = -1,
           py::arg("deletion_time") = -1)
      .def_readonly("name", &SimPod::name)
      .def_readonly("cpu_milli", &SimPod::cpu_milli)
      .def_readonly("memory_mib", &SimPod::memory_mib)
      .def_readonly("num_gpu", &SimPod::num_gpu)
      .def_readonly("gpu_milli", &SimPod::gpu_milli)
      .def_readonly("gpu_spec", &SimPod::gpu_spec)
      .def_readonly("creation_time", &SimPod::creation_time)
      .def_readonly("deletion_time", &SimPod::deletion_time)
      .def("__eq__", [](const SimPod& a, const SimPod& b) {
        return a.name == b.name && a.cpu_milli == b.cpu_milli && a.memory_mib == b.memory_mib &&
               a.num_gpu == b.num_gpu && a.gpu_milli == b.gpu_milli && a.gpu_spec == b.gpu_spec &&
               a.creation_time == b.creation_time && a.deletion_time == b.deletion_time;
      })
      .def(py::pickle(
          [](const SimPod& p) {
            return py::make_tuple(p.name, p.cpu_milli, p.memory_mib, p.num_gpu, p.gpu_milli, p.gpu_spec,
                                  p.creation_time, p.deletion_time);
          },
          [](const py::tuple& t) {
            if (t.size() != 8) throw std::runtime_error("SimPod pickle: expected 8 fields");
            SimPod p;
            p.name = t[0].cast<std::string>();
            p.cpu_milli = t[1].cast<int64_t>();
            p.memory_mib = t[2].cast<int64_t>();
            p.num_gpu = t[3].cast<int>();
            p.gpu_milli = t[4].cast<int>();
            p.gpu_spec = t[5].cast<std::vector<std::string>>();
            p.creation_time = t[6].cast<int64_t>();
            p.deletion_time = t[7].cast<int64_t>();
            return p;
          }))
      .def("__repr__", [](const SimPod& p) {
        std::ostringstream os;
        os << "SimPod('" << p.name << "', cpu_milli=" << p.cpu_milli << ", memory_mib=" << p.memory_mib
           << ", num_gpu=" << p.num_gpu << ", gpu_milli=" << p.gpu_milli << ")";
        return os.str();
      });

  m.def("sim_load_openb_nodes", &load_openb_nodes, py::arg("path"), "Load an openb node list (raises ParseError).");
  m.def("sim_load_openb_pods", &load_openb_pods, py::arg("path"), "Load an openb pod list (raises ParseError).");
  m.def("sim_policy_names", &sim_policy_names, "Names of the trace simulator's policies.");

  m.def(
      "sim_replay",
      [](const std::vector<SimNode>& nodes, const std::vector<SimPod>& pods, const std::string& policy,
         const std::vector<uint64_t>& seeds, double inflation, bool shuffle, bool timed, int max_pct,
         bool reference, unsigned threads) {
        const SimPolicy& pol = sim_policy(policy);  // throws NotFound before any work
        ReplayOptions o;
        o.inflation = inflation;
        o.shuffle = shuffle;
        o.timed = timed;
        o.max_pct = max_pct;
        std::vector<ReplayResult> out;
        {
          py::gil_scoped_release nogil;
          Replayer r(nodes, pods, o);
          out = run_seeds(r, pol, seeds, threads, reference ? Engine::reference : Engine::fast);
        }
        py::dict cols;
        std::vector<int64_t> seed, arrived, rows, submitted, placed, failed;
        std::vector<double> alloc, unalloc, frag, ratio;
        for (const auto& res : out)
          for (const auto& st : res.steps) {
            seed.push_back(int64_t(res.seed));
            arrived.push_back(st.arrived_pct);
            alloc.push_back(st.allocated_pct);
            unalloc.push_back(st.unallocated_pct);
            frag.push_back(st.fragmentation_pct);
            ratio.push_back(st.frag_ratio_pct);
            rows.push_back(st.rows);
            submitted.push_back(res.pods_submitted);
            placed.push_back(res.pods_placed);
            failed.push_back(res.pods_failed);
          }
        cols["seed"] = seed;
        cols["arrived_pct"] = arrived;
        cols["allocated_pct"] = alloc;
        cols["unallocated_pct"] = unalloc;
        cols["fragmentation_pct"] = frag;
        cols["frag_ratio_pct"] = ratio;
        cols["samples"] = rows;
        cols["pods_submitted"] = submitted;
        cols["pods_placed"] = placed;
        cols["pods_failed"] = failed;
        return cols;
      },
      py::arg("nodes"), py::arg("pods"), py::arg("policy"), py::arg("seeds"), py::arg("inflation") = 1.3,
      py::arg("shuffle") = true, py::arg("timed") = false, py::arg("max_pct") = 130, py::arg("reference") = false,
      py::arg("threads") = 1,
      "Replay a trace once per seed (on up to `threads` threads, same result as serial); returns a dict\n"
      "of equal-length columns (one row per seed and step).");

  m.def(
      "sim_replay_final",
      [](const std::vector<SimNode>& nodes, const std::vector<SimPod>& pods, const std::string& policy,
         const std::vector<uint64_t>& seeds, double inflation, bool shuffle, bool timed, bool resample,
         unsigned threads) {
        const SimPolicy& pol = sim_policy(policy);
        ReplayOptions o;
        o.resample = resample;
        o.inflation = inflation;
        o.shuffle = shuffle;
        o.timed = timed;
        o.max_pct = 0;  // only the end state is wanted
        std::vector<ReplayResult> out;
        {
          py::gil_scoped_release nogil;
          Replayer r(nodes, pods, o);
          out = run_seeds(r, pol, seeds, threads);
        }
        py::list rows;
        for (const auto& res : out) {
          py::dict d;
          d["seed"] = int64_t(res.seed);
          d["arrived_milli"] = res.arrived_milli;
          d["allocated_milli"] = res.allocated_milli;
          d["fragmentation_milli"] = res.fragmentation_milli;
          d["pods_submitted"] = res.pods_submitted;
          d["pods_placed"] = res.pods_placed;
          d["pods_failed"] = res.pods_failed;
          d["node_used_milli"] = res.node_used_milli;
          rows.append(d);
        }
        return rows;
      },
      py::arg("nodes"), py::arg("pods"), py::arg("policy"), py::arg("seeds"), py::arg("inflation") = 1.3,
      py::arg("shuffle") = true, py::arg("timed") = false, py::arg("resample") = true,
      py::arg("threads") = 1,
      "Replay once per seed and return each run's end state (a dict per seed: arrived/allocated/"
      "fragmentation milli, pod counts, node_used_milli per node in input order).");
}

}  // namespace gpushare_py
