// gpushare/sim/convert.hpp — between the project's model types (gpushare::Node / Gpu / Request)
// and the trace simulator's rows (SimNode / SimPod), so a replay can start from a model cluster
// and openb rows can feed the rest of the library.
//
// @code
//   gpushare::Node n = gpushare::sim::to_model_node(sim_node);   // GPUs of 1000 milli, 0 MiB
//   gpushare::sim::SimNode back = gpushare::sim::to_sim_node(n);
// @endcode
#pragma once

#include <string>

#include "gpushare/model/errors.hpp"
#include "gpushare/model/node.hpp"
#include "gpushare/model/request.hpp"
#include "gpushare/sim/openb.hpp"
#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief A model node for an openb node row: `gpus` GPUs of the row's model, 1000 milli each,
/// GPU memory unknown (0 MiB; the openb trace has none).
inline Node to_model_node(const SimNode& s) {
  Node n;
  n.name = s.name;
  n.cpu_milli = s.cpu_milli;
  n.host_mib = s.memory_mib;
  for (int g = 0; g < s.gpus; ++g) n.gpus.push_back(Gpu{g, s.model, 1000, 0, true, -1});
  return n;
}

/// @brief The simulator's view of a model node.
/// @throws InvalidArgument if its GPUs are not all healthy, 1000-milli GPUs of one known model.
inline SimNode to_sim_node(const Node& n) {
  SimNode s;
  s.name = n.name;
  s.cpu_milli = n.cpu_milli;
  s.memory_mib = n.host_mib;
  s.gpus = int(n.gpus.size());
  if (s.gpus > kMaxGpusPerNode)
    throw InvalidArgument("node " + n.name + ": the simulator supports at most 8 GPUs per node");
  for (const auto& g : n.gpus) {
    if (g.milli_total != 1000 || !g.healthy)
      throw InvalidArgument("node " + n.name + " gpu " + std::to_string(g.index) +
                            ": the simulator needs healthy GPUs of 1000 milli");
    if (s.model.empty()) s.model = g.model;
    if (g.model != s.model)
      throw InvalidArgument("node " + n.name + " gpu " + std::to_string(g.index) + ": model '" + g.model +
                            "' differs from gpu 0's '" + s.model + "' (the simulator needs one model per node)");
  }
  if (s.gpus > 0 && gpu_model_id(s.model) < 0)
    throw InvalidArgument("node " + n.name + ": GPU model '" + s.model + "' is not one the simulator knows");
  return s;
}

/// @brief A model request for an openb pod row (GPU memory 0 MiB: the trace has none).
inline Request to_model_request(const SimPod& p) {
  Request r;
  r.name = p.name;
  r.cpu_milli = p.cpu_milli;
  r.host_mib = p.memory_mib;
  r.gpu = GpuDemand{p.num_gpu, p.num_gpu > 0 ? p.gpu_milli : 0, 0};
  r.allowed_models = p.gpu_spec;
  return r;
}

/// @brief The simulator's view of a model request (GPU memory and tenancy are ignored).
/// @throws InvalidArgument for denied-model lists, fractional multi-GPU demands or > 8 GPUs.
inline SimPod to_sim_pod(const Request& r) {
  if (!r.denied_models.empty())
    throw InvalidArgument("request " + r.name + ": the simulator does not support denied_models");
  if (r.gpu.count < 0 || r.gpu.count > kMaxGpusPerNode || r.gpu.milli < 0 || r.gpu.milli > 1000)
    throw InvalidArgument("request " + r.name + ": gpu demand outside 0..8 GPUs of 0..1000 milli");
  if (r.gpu.count > 1 && r.gpu.milli != 1000)
    throw InvalidArgument("request " + r.name + ": the simulator needs whole GPUs for multi-GPU demands");
  SimPod p;
  p.name = r.name;
  p.cpu_milli = r.cpu_milli;
  p.memory_mib = r.host_mib;
  p.num_gpu = r.gpu.milli > 0 ? r.gpu.count : 0;
  p.gpu_milli = p.num_gpu > 0 ? int(r.gpu.milli) : 0;
  p.gpu_spec = r.allowed_models;
  return p;
}

}  // namespace sim
}  // namespace gpushare
