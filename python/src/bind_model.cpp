// Python bindings of gpushare/model: Gpu, Node, GpuDemand, Request, Placement, Cluster.
#include <gpushare/model/cluster.hpp>

#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"

namespace py = pybind11;
using namespace gpushare;

namespace gpushare_py {

namespace {
template <class T>
std::string repr(const T& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

template <class T>
py::array_t<std::int64_t> to_array(const std::vector<T>& v) {
  py::array_t<std::int64_t> a(static_cast<py::ssize_t>(v.size()));
  auto w = a.mutable_unchecked<1>();
  for (std::size_t i = 0; i < v.size(); ++i) w(static_cast<py::ssize_t>(i)) = static_cast<std::int64_t>(v[i]);
  return a;
}
}  // namespace

void bind_model(py::module_& m) {
  py::class_<Gpu>(m, "Gpu", "One GPU of a node: index, model, capacity (milli-GPU, MiB), health, NUMA node.")
      .def(py::init([](int index, std::string model, std::int64_t milli_total, std::int64_t mib_total, bool healthy,
                       int numa_node) { return Gpu{index, std::move(model), milli_total, mib_total, healthy, numa_node}; }),
           py::arg("index") = 0, py::arg("model") = "", py::arg("milli_total") = 1000, py::arg("mib_total") = 0,
           py::arg("healthy") = true, py::arg("numa_node") = -1)
      .def_readwrite("index", &Gpu::index)
      .def_readwrite("model", &Gpu::model)
      .def_readwrite("milli_total", &Gpu::milli_total)
      .def_readwrite("mib_total", &Gpu::mib_total)
      .def_readwrite("healthy", &Gpu::healthy)
      .def_readwrite("numa_node", &Gpu::numa_node)
      .def(py::self == py::self)
      .def("__repr__", &repr<Gpu>)
      .def(py::pickle([](const Gpu& g) { return py::make_tuple(g.index, g.model, g.milli_total, g.mib_total, g.healthy, g.numa_node); },
                      [](py::tuple t) {
                        return Gpu{t[0].cast<int>(), t[1].cast<std::string>(), t[2].cast<std::int64_t>(),
                                   t[3].cast<std::int64_t>(), t[4].cast<bool>(), t[5].cast<int>()};
                      }));

  py::class_<Node>(m, "Node", "A node: name, CPU (milli-cores), host memory (MiB), labels and GPUs (indices 0..n-1).")
      .def(py::init([](std::string name, std::int64_t cpu_milli, std::int64_t host_mib, std::vector<Gpu> gpus,
                       std::map<std::string, std::string> labels) {
             return Node{std::move(name), cpu_milli, host_mib, std::move(labels), std::move(gpus)};
           }),
           py::arg("name"), py::arg("cpu_milli") = 0, py::arg("host_mib") = 0, py::arg("gpus") = std::vector<Gpu>{},
           py::arg("labels") = std::map<std::string, std::string>{})
      .def_readwrite("name", &Node::name)
      .def_readwrite("cpu_milli", &Node::cpu_milli)
      .def_readwrite("host_mib", &Node::host_mib)
      .def_readwrite("labels", &Node::labels)
      .def_readwrite("gpus", &Node::gpus, "The GPUs (a copy: assign a new list to change them).")
      .def("validate", [](const Node& n) { validate(n); }, "Raise InvalidArgumentError naming the bad field, if any.")
      .def(py::self == py::self)
      .def("__repr__", &repr<Node>)
      .def(py::pickle([](const Node& n) { return py::make_tuple(n.name, n.cpu_milli, n.host_mib, n.labels, n.gpus); },
                      [](py::tuple t) {
                        return Node{t[0].cast<std::string>(), t[1].cast<std::int64_t>(), t[2].cast<std::int64_t>(),
                                    t[3].cast<std::map<std::string, std::string>>(), t[4].cast<std::vector<Gpu>>()};
                      }));

  py::class_<Request>(m, "Request",
                      "A workload: CPU, host memory and a GPU demand of gpu_count distinct GPUs with gpu_milli and "
                      "gpu_mib each.")
      .def(py::init([](std::string name, std::int64_t cpu_milli, std::int64_t host_mib, int gpu_count,
                       std::int64_t gpu_milli, std::int64_t gpu_mib, std::vector<std::string> allowed_models,
                       std::vector<std::string> denied_models, std::string tenant, int priority) {
             Request r;
             r.name = std::move(name);
             r.cpu_milli = cpu_milli;
             r.host_mib = host_mib;
             r.gpu = {gpu_count, gpu_milli, gpu_mib};
             r.allowed_models = std::move(allowed_models);
             r.denied_models = std::move(denied_models);
             r.tenant = std::move(tenant);
             r.priority = priority;
             return r;
           }),
           py::arg("name"), py::arg("cpu_milli") = 0, py::arg("host_mib") = 0, py::arg("gpu_count") = 0,
           py::arg("gpu_milli") = 0, py::arg("gpu_mib") = 0, py::arg("allowed_models") = std::vector<std::string>{},
           py::arg("denied_models") = std::vector<std::string>{}, py::arg("tenant") = "", py::arg("priority") = 0)
      .def_readwrite("name", &Request::name)
      .def_readwrite("cpu_milli", &Request::cpu_milli)
      .def_readwrite("host_mib", &Request::host_mib)
      .def_property("gpu_count", [](const Request& r) { return r.gpu.count; }, [](Request& r, int v) { r.gpu.count = v; })
      .def_property("gpu_milli", [](const Request& r) { return r.gpu.milli; }, [](Request& r, std::int64_t v) { r.gpu.milli = v; })
      .def_property("gpu_mib", [](const Request& r) { return r.gpu.mib; }, [](Request& r, std::int64_t v) { r.gpu.mib = v; })
      .def_readwrite("allowed_models", &Request::allowed_models)
      .def_readwrite("denied_models", &Request::denied_models)
      .def_readwrite("tenant", &Request::tenant)
      .def_readwrite("priority", &Request::priority)
      .def("accepts_model", &Request::accepts_model, py::arg("model"))
      .def("validate", [](const Request& r) { validate(r); }, "Raise InvalidArgumentError naming the bad field, if any.")
      .def(py::self == py::self)
      .def("__repr__", &repr<Request>)
      .def(py::pickle(
          [](const Request& r) {
            return py::make_tuple(r.name, r.cpu_milli, r.host_mib, r.gpu.count, r.gpu.milli, r.gpu.mib, r.allowed_models,
                                  r.denied_models, r.tenant, r.priority);
          },
          [](py::tuple t) {
            Request r;
            r.name = t[0].cast<std::string>();
            r.cpu_milli = t[1].cast<std::int64_t>();
            r.host_mib = t[2].cast<std::int64_t>();
            r.gpu = {t[3].cast<int>(), t[4].cast<std::int64_t>(), t[5].cast<std::int64_t>()};
            r.allowed_models = t[6].cast<std::vector<std::string>>();
            r.denied_models = t[7].cast<std::vector<std::string>>();
            r.tenant = t[8].cast<std::string>();
            r.priority = t[9].cast<int>();
            return r;
          }));

  py::class_<Placement>(m, "Placement", "Where a request goes: node, GPU indices and the amounts taken.")
      .def(py::init([](std::string request, std::string node, std::size_t node_index, std::vector<int> gpus,
                       std::int64_t milli_per_gpu, std::int64_t mib_per_gpu, std::int64_t cpu_milli, std::int64_t host_mib) {
             return Placement{std::move(request), std::move(node), node_index, std::move(gpus), milli_per_gpu, mib_per_gpu,
                              cpu_milli, host_mib};
           }),
           py::arg("request"), py::arg("node"), py::arg("node_index"), py::arg("gpus") = std::vector<int>{},
           py::arg("milli_per_gpu") = 0, py::arg("mib_per_gpu") = 0, py::arg("cpu_milli") = 0, py::arg("host_mib") = 0)
      .def_readwrite("request", &Placement::request)
      .def_readwrite("node", &Placement::node)
      .def_readwrite("node_index", &Placement::node_index)
      .def_readwrite("gpus", &Placement::gpus)
      .def_readwrite("milli_per_gpu", &Placement::milli_per_gpu)
      .def_readwrite("mib_per_gpu", &Placement::mib_per_gpu)
      .def_readwrite("cpu_milli", &Placement::cpu_milli)
      .def_readwrite("host_mib", &Placement::host_mib)
      .def(py::self == py::self)
      .def("__repr__", &repr<Placement>)
      .def(py::pickle(
          [](const Placement& p) {
            return py::make_tuple(p.request, p.node, p.node_index, p.gpus, p.milli_per_gpu, p.mib_per_gpu, p.cpu_milli,
                                  p.host_mib);
          },
          [](py::tuple t) {
            return Placement{t[0].cast<std::string>(), t[1].cast<std::string>(), t[2].cast<std::size_t>(),
                             t[3].cast<std::vector<int>>(), t[4].cast<std::int64_t>(), t[5].cast<std::int64_t>(),
                             t[6].cast<std::int64_t>(), t[7].cast<std::int64_t>()};
          }));

  py::class_<UsageSnapshot>(m, "UsageSnapshot", "Every free capacity of a cluster; equal snapshots mean equal usage.")
      .def_property_readonly("gpu_free_milli", [](const UsageSnapshot& s) { return to_array(s.gpu_free_milli); })
      .def_property_readonly("gpu_free_mib", [](const UsageSnapshot& s) { return to_array(s.gpu_free_mib); })
      .def_property_readonly("node_free_cpu_milli", [](const UsageSnapshot& s) { return to_array(s.node_free_cpu_milli); })
      .def_property_readonly("node_free_host_mib", [](const UsageSnapshot& s) { return to_array(s.node_free_host_mib); })
      .def(py::self == py::self)
      .def("__repr__", [](const UsageSnapshot& s) {
        return "UsageSnapshot(gpus=" + std::to_string(s.gpu_free_milli.size()) +
               ", nodes=" + std::to_string(s.node_free_cpu_milli.size()) + ")";
      });

  py::class_<Cluster>(m, "Cluster",
                      "Nodes and their usage. allocate() and release() are the only mutators; both check everything "
                      "first and change nothing when they raise.")
      .def(py::init<>())
      .def(py::init<std::vector<Node>>(), py::arg("nodes"))
      .def("add_node", &Cluster::add_node, py::arg("node"), "Add an empty node; returns its index.")
      .def("__len__", &Cluster::size)
      .def_property_readonly("nodes", &Cluster::nodes)
      .def("node", &Cluster::node, py::arg("index"), py::return_value_policy::copy)
      .def("find_node", &Cluster::find_node, py::arg("name"), "Index of the node called name, or None.")
      .def_property_readonly("gpu_count", &Cluster::gpu_count)
      .def("gpu_offset", &Cluster::gpu_offset, py::arg("node_index"))
      .def("free_milli", &Cluster::free_milli, py::arg("node_index"), py::arg("gpu"))
      .def("free_mib", &Cluster::free_mib, py::arg("node_index"), py::arg("gpu"))
      .def("free_cpu_milli", &Cluster::free_cpu_milli, py::arg("node_index"))
      .def("free_host_mib", &Cluster::free_host_mib, py::arg("node_index"))
      .def_property_readonly("total_gpu_milli", &Cluster::total_gpu_milli)
      .def_property_readonly("free_gpu_milli", &Cluster::free_gpu_milli)
      .def("allocate", &Cluster::allocate, py::arg("placement"))
      .def("release", py::overload_cast<const Placement&>(&Cluster::release), py::arg("placement"))
      .def("release", py::overload_cast<const std::string&>(&Cluster::release), py::arg("request"),
           "Release the allocation named request; returns its Placement.")
      .def("allocation", [](const Cluster& c, const std::string& name) -> std::optional<Placement> {
             const Placement* p = c.allocation(name);
             return p ? std::optional<Placement>(*p) : std::nullopt;
           }, py::arg("request"))
      .def("allocations", &Cluster::allocations, "Live allocations sorted by request name.")
      .def_property_readonly("allocation_count", &Cluster::allocation_count)
      .def("set_gpu_healthy", &Cluster::set_gpu_healthy, py::arg("node_index"), py::arg("gpu"), py::arg("healthy"))
      .def("snapshot", &Cluster::snapshot)
      .def_property_readonly("version", &Cluster::version)
      .def(py::pickle(
          [](const Cluster& c) { return py::make_tuple(c.nodes(), c.allocations()); },
          [](py::tuple t) {
            // Allocations are re-applied through the checked path, including those on GPUs that
            // turned unhealthy after the work was placed.
            return Cluster::restore(t[0].cast<std::vector<Node>>(), t[1].cast<std::vector<Placement>>());
          }))
      .def("__repr__", [](const Cluster& c) {
        return "Cluster(nodes=" + std::to_string(c.size()) + ", gpus=" + std::to_string(c.gpu_count()) +
               ", allocations=" + std::to_string(c.allocation_count()) + ", free_gpu_milli=" +
               std::to_string(c.free_gpu_milli()) + "/" + std::to_string(c.total_gpu_milli()) + ")";
      });
}

}  // namespace gpushare_py
