// gpushare/gpushare.hpp — the umbrella header: the model, the solvers and the simulator.
//
// The Kubernetes edge (gpushare/k8s/) and the conformance runners (gpushare/conform/) need
// nlohmann_json and are included separately.
//
// @code
//   #include <gpushare/gpushare.hpp>
//
//   gpushare::Cluster cluster;
//   gpushare::Node n{"n1", 32000, 131072, {}, {}};
//   for (int i = 0; i < 4; ++i) n.gpus.push_back({i, "T4", 1000, 15360});
//   cluster.add_node(n);
//   gpushare::Request r;
//   r.name = "infer-1"; r.cpu_milli = 2000; r.gpu = {1, 300, 4096};
//   if (auto res = gpushare::schedule(cluster, r, gpushare::BestFit{})) cluster.allocate(*res.placement);
// @endcode
#pragma once

#include "version.hpp"
#include "model/errors.hpp"
#include "model/gpu.hpp"
#include "model/node.hpp"
#include "model/request.hpp"
#include "model/placement.hpp"
#include "model/free_gpu_index.hpp"
#include "model/cluster.hpp"
#include "solve/score.hpp"
#include "solve/gpu_choice.hpp"
#include "solve/explain.hpp"
#include "solve/node_policies.hpp"
#include "solve/schedule.hpp"
#include "catalogue.hpp"
#include "sim/go_rand.hpp"
#include "sim/openb.hpp"
#include "sim/state.hpp"
#include "sim/policies.hpp"
#include "sim/replay.hpp"
#include "sim/parallel_replay.hpp"
#include "sim/convert.hpp"
#include "solve/quota_model.hpp"
#include "solve/quota_preemption.hpp"
#include "solve/quota_admission.hpp"
#include "modes/tencent/quota.hpp"
#include "solve/quota_schedule.hpp"
