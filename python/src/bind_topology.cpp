// Python binding of the topology layer: Topology (NumPy matrices), the nvidia-smi parser, the
// JSON fixture loader, best_gpu_set and the go-gpuallocator BestEffort policy.
#include <gpushare/io/nvidia_smi_topo.hpp>
#include <gpushare/io/topology_json.hpp>
#include <gpushare/modes/nvidia/besteffort.hpp>
#include <gpushare/solve/topology_set.hpp>

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;

namespace gpushare_py {

namespace {
gpushare::Topology topology_from_json_obj(const py::object& obj) {
  std::string text = py::isinstance<py::str>(obj) ? obj.cast<std::string>()
                                                  : py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw gpushare::ParseError(std::string("topology json: invalid JSON: ") + e.what());
  }
  return gpushare::topology_from_json(j);
}
}  // namespace

void bind_topology(py::module_& m) {
  using gpushare::Topology;
  py::class_<Topology>(m, "Topology",
                       "GPU interconnect topology of one node: PCIe level, NVLink count, NVSwitch, NUMA.")
      .def(py::init<int>(), py::arg("n"), "n GPUs, unknown PCIe levels, no NVLink, unknown NUMA.")
      .def_static("from_nvidia_smi",
                  [](const std::string& text) { return gpushare::parse_nvidia_smi_topo(text).to_topology(); },
                  py::arg("text"), "Parse `nvidia-smi topo -m` output (raises ParseError with line/column).")
      .def_static("from_json", &topology_from_json_obj, py::arg("data"),
                  "Load the fixture format from JSON text or a dict.")
      .def("to_json", [](const Topology& t) { return gpushare::topology_to_json(t).dump(); },
           "Fixture-format JSON text.")
      .def_property_readonly("size", &Topology::size, "Number of GPUs.")
      .def_property_readonly("pcie", [](const Topology& t) { return Eigen::MatrixXi(t.pcie().cast<int>()); },
                             "n x n int array of PCIe levels: 0 X, 1 BRD, 2 PIX, 3 PXB, 4 PHB, 5 NODE, 6 SYS, 7 unknown.")
      .def_property_readonly("pcie_labels",
                             [](const Topology& t) {
                               std::vector<std::vector<std::string>> out(t.size());
                               for (int i = 0; i < t.size(); ++i)
                                 for (int j = 0; j < t.size(); ++j)
                                   out[i].push_back(gpushare::to_string(t.pcie_level(i, j)));
                               return out;
                             },
                             "PCIe level labels ('' when unknown).")
      .def_property_readonly("nvlink", [](const Topology& t) { return Eigen::MatrixXi(t.nvlink()); },
                             "n x n int array of NVLink counts.")
      .def_property_readonly("numa", [](const Topology& t) { return Eigen::VectorXi(t.numa()); },
                             "NUMA node per GPU (-1 unknown).")
      .def_property_readonly("nvswitch", &Topology::nvswitch, "GPUs joined through NVSwitch.")
      .def_property_readonly("name", &Topology::name)
      .def("set_link",
           [](Topology& t, int i, int j, const std::string& level, int nvlinks) {
             gpushare::PcieLevel l = gpushare::PcieLevel::unknown;
             if (!level.empty() && !gpushare::parse_pcie_level(level, l))
               throw gpushare::InvalidArgument("Topology.set_link: unknown level '" + level + "'");
             t.set_link(i, j, l, nvlinks);
           },
           py::arg("i"), py::arg("j"), py::arg("level"), py::arg("nvlinks") = 0)
      .def("set_numa", &Topology::set_numa, py::arg("i"), py::arg("node"))
      .def("__repr__", [](const Topology& t) {
        return "Topology(gpus=" + std::to_string(t.size()) + (t.name().empty() ? "" : ", name='" + t.name() + "'") +
               ", nvswitch=" + (t.nvswitch() ? "True" : "False") + ")";
      });

  m.def(
      "best_gpu_set",
      [](const Topology& t, const std::vector<int>& free, int k, const std::vector<int>& required,
         bool leave_best_for_later) {
        gpushare::TopologySetOptions o;
        o.leave_best_for_later = leave_best_for_later;
        auto r = gpushare::best_gpu_set(t, free, k, required, o);
        if (!r.found)
          throw gpushare::CapacityError("best_gpu_set: only " + std::to_string(free.size()) +
                                        " free GPUs, " + std::to_string(k) + " requested");
        return r.gpus;
      },
      py::arg("topology"), py::arg("free"), py::arg("k"), py::arg("required") = std::vector<int>{},
      py::arg("leave_best_for_later") = false,
      "Exact best k GPUs out of `free` (containing `required`) by the set score of docs/TOPOLOGY.md.");
  m.def("topology_set_score", &gpushare::topology_set_score, py::arg("topology"), py::arg("gpus"),
        "Set score: sum over pairs of 100000 * NVLinks + PCIe points (BRD 6 ... SYS 1).");
  m.def("nvidia_besteffort", &gpushare::nvidia_besteffort, py::arg("topology"), py::arg("available"),
        py::arg("required"), py::arg("size"),
        "go-gpuallocator BestEffort choice (sorted; [] when nothing is allocated).");
}

}  // namespace gpushare_py
