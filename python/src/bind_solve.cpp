// Python bindings of gpushare/solve: GPU choice, node policies, schedule and its explanations.
#include <gpushare/catalogue.hpp>

#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"

namespace py = pybind11;
using namespace gpushare;

namespace gpushare_py {

namespace {
// A catalogue policy as one Python type: pybind11's std::variant caster would otherwise turn an
// AnyPolicy into whichever alternative it holds (and fail for the ones without bindings).
struct CataloguePolicy {
  AnyPolicy policy;
};

ScheduleResult schedule(const Cluster& c, const Request& r, CataloguePolicy& p, const ScheduleOptions& o) {
  return gpushare::schedule(c, r, p.policy, o);
}

template <class P>
py::class_<P> bind_policy(py::module_& m, const char* name, const char* doc) {
  py::class_<P> c(m, name, doc);
  c.def_readwrite("gpu_fit", &P::gpu_fit, "How GPUs are chosen inside a node.")
      .def_property_readonly_static("name", [](py::object) { return std::string(P::name()); })
      .def("__repr__", [name](const P& p) { return std::string(name) + "(gpu_fit=GpuFit." + to_string(p.gpu_fit) + ")"; });
  return c;
}

template <class P>
void bind_schedule_for(py::module_& m) {
  m.def(
      "schedule",
      [](const Cluster& c, const Request& r, P& policy, bool explain) {
        ScheduleOptions o;
        o.explain = explain;
        return schedule(c, r, policy, o);
      },
      py::arg("cluster"), py::arg("request"), py::arg("policy"), py::arg("explain") = true);
}
}  // namespace

void bind_solve(py::module_& m) {
  py::enum_<GpuFit>(m, "GpuFit", "Rule for choosing GPUs inside one node.")
      .value("best", GpuFit::best, "least room left after placement (milli, then MiB); lowest index on ties")
      .value("worst", GpuFit::worst, "most room left after placement; lowest index on ties")
      .value("first", GpuFit::first, "lowest-indexed GPUs that fit");

  py::enum_<RejectReason>(m, "RejectReason", "Why a node cannot take a request.")
      .value("gpu_model", RejectReason::gpu_model)
      .value("cpu", RejectReason::cpu)
      .value("host_memory", RejectReason::host_memory)
      .value("gpu_count", RejectReason::gpu_count)
      .value("gpu_unhealthy", RejectReason::gpu_unhealthy)
      .value("gpu_fragmented", RejectReason::gpu_fragmented)
      .value("gpu_capacity", RejectReason::gpu_capacity)
      .value("policy", RejectReason::policy);

  py::class_<Score>(m, "Score", "A node's score: higher wins, compared (primary, secondary).")
      .def_readonly("primary", &Score::primary)
      .def_readonly("secondary", &Score::secondary)
      .def("__repr__", [](const Score& s) {
        std::ostringstream os;
        os << s;
        return os.str();
      });

  py::class_<Rejection>(m, "Rejection", "One node's reason for refusing a request.")
      .def_readonly("node_index", &Rejection::node_index)
      .def_readonly("node", &Rejection::node)
      .def_readonly("reason", &Rejection::reason)
      .def_readonly("message", &Rejection::message)
      .def("__repr__", [](const Rejection& r) { return "Rejection('" + r.message + "')"; });

  py::class_<ScheduleResult>(m, "ScheduleResult",
                             "Outcome of schedule(): placement (or None), score, and per-node rejections on failure.")
      .def_readonly("placement", &ScheduleResult::placement)
      .def_readonly("score", &ScheduleResult::score)
      .def_readonly("rejections", &ScheduleResult::rejections)
      .def_readonly("request", &ScheduleResult::request)
      .def("__bool__", [](const ScheduleResult& r) { return r.placement.has_value(); })
      .def("explain", &ScheduleResult::explain, py::arg("max_nodes") = 20)
      .def("__repr__", [](const ScheduleResult& r) {
        return r.placement ? "ScheduleResult(placed on '" + r.placement->node + "')"
                           : "ScheduleResult(unplaced, " + std::to_string(r.rejections.size()) + " rejections)";
      });

  bind_policy<FirstFit>(m, "FirstFit", "The lowest-indexed node that fits; GPUs by first fit.").def(py::init<>());
  bind_policy<BestFit>(m, "BestFit",
                       "The node whose chosen GPUs keep the least free capacity (milli, then MiB); CPU-only requests "
                       "by least free CPU, then host memory.")
      .def(py::init<>());
  bind_policy<BinPack>(m, "BinPack", "The most allocated node after placement (GPU share, then CPU/memory share).")
      .def(py::init<>());
  bind_policy<Spread>(m, "Spread", "The least allocated node after placement; GPUs by worst fit.").def(py::init<>());
  bind_policy<Random>(m, "Random", "A uniformly random feasible node, reproducible from seed.")
      .def(py::init<std::uint64_t>(), py::arg("seed") = 0);

  bind_schedule_for<FirstFit>(m);
  bind_schedule_for<BestFit>(m);
  bind_schedule_for<BinPack>(m);
  bind_schedule_for<Spread>(m);
  bind_schedule_for<Random>(m);
  m.def(
      "schedule",
      [](const Cluster& c, const Request& r, const std::string& policy, bool explain, std::uint64_t seed) {
        AnyPolicy p = make_policy(policy, seed);
        ScheduleOptions o;
        o.explain = explain;
        return schedule(c, r, p, o);
      },
      py::arg("cluster"), py::arg("request"), py::arg("policy") = "best-fit", py::arg("explain") = true,
      py::arg("seed") = 0);

  m.def("policy_names", &policy_names, "Names accepted by make_policy() and schedule(..., policy=NAME).");

  py::class_<CataloguePolicy>(m, "Policy",
                              "A live policy of the catalogue (make_policy). Learning policies (fgd, best) learn "
                              "the workload from the requests passed to observe().")
      .def_property_readonly("name", [](const CataloguePolicy& p) {
        return std::visit([](const auto& q) { return std::string(q.name()); }, p.policy);
      })
      .def(
          "observe", [](CataloguePolicy& p, const Cluster& c, const Request& r) { observe(p.policy, c, r); },
          py::arg("cluster"), py::arg("request"),
          "Learn from a request the service has seen (no-op for policies that do not learn).")
      .def_property_readonly(
          "observed",
          [](const CataloguePolicy& p) -> std::int64_t {
            const auto* l = std::get_if<sim::LivePolicy>(&p.policy);
            return l ? l->observed() : 0;
          },
          "Requests a learning policy has observed (0 for the others).")
      .def("__repr__", [](const CataloguePolicy& p) {
        return "Policy('" + std::visit([](const auto& q) { return std::string(q.name()); }, p.policy) + "')";
      });
  m.def(
      "make_policy",
      [](const std::string& name, std::uint64_t seed) { return CataloguePolicy{make_policy(name, seed)}; },
      py::arg("name"), py::arg("seed") = 0,
      "The live policy called NAME (or an alias) from the catalogue; see policies().");
  bind_schedule_for<CataloguePolicy>(m);
  m.def(
      "policies",
      []() {
        py::list out;
        for (const auto& row : catalogue()) {
          py::dict d;
          d["name"] = row.name;
          d["aliases"] = row.aliases;
          d["description"] = row.description;
          d["live"] = row.live();
          d["simulator"] = row.sim ? py::object(py::str(row.sim->name)) : py::object(py::none());
          out.append(d);
        }
        return out;
      },
      "The policy catalogue: one dict per policy (name, aliases, description, live, simulator label or None).");
  m.def(
      "choose_gpus",
      [](const Cluster& c, std::size_t node, const Request& r, GpuFit fit) -> std::optional<std::vector<int>> {
        validate(r);
        c.node(node);  // range check with a clear error
        GpuChoice out;
        if (!choose_gpus(c.view(node), r, fit, out)) return std::nullopt;
        return out.gpus;
      },
      py::arg("cluster"), py::arg("node_index"), py::arg("request"), py::arg("fit") = GpuFit::best,
      "GPU indices the rule picks on one node, or None if the demand does not fit there.");
  m.def(
      "diagnose",
      [](const Cluster& c, std::size_t node, const Request& r) {
        validate(r);
        c.node(node);
        return diagnose(c.view(node), r);
      },
      py::arg("cluster"), py::arg("node_index"), py::arg("request"),
      "Why the node cannot take the request (a Rejection), or None if it can.");
}

}  // namespace gpushare_py
