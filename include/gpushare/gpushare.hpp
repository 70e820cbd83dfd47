// gpushare/gpushare.hpp — the umbrella header: every public header that needs only the standard
// library and Eigen: the model, io (nvidia-smi text), solve, the compatible modes, the simulator
// and the policy catalogue.
//
// Left out, on purpose:
//  - headers that need nlohmann_json (link gpushare::json): io/topology_json.hpp,
//    io/json_number.hpp and everything under k8s/;
//  - the conformance runners (modes/*/conform*.hpp, modes/conform/): test tooling, not installed.
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
//   gpushare::AnyPolicy best = gpushare::make_policy("best");   // any policy of the catalogue
// @endcode
#pragma once

#include "gpushare/version.hpp"
#include "gpushare/model/errors.hpp"
#include "gpushare/model/gpu.hpp"
#include "gpushare/model/limits.hpp"
#include "gpushare/model/node.hpp"
#include "gpushare/model/request.hpp"
#include "gpushare/model/placement.hpp"
#include "gpushare/model/free_gpu_index.hpp"
#include "gpushare/model/cluster.hpp"
#include "gpushare/model/topology.hpp"
#include "gpushare/io/nvidia_smi_topo.hpp"
#include "gpushare/solve/score.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/explain.hpp"
#include "gpushare/solve/node_policies.hpp"
#include "gpushare/solve/schedule.hpp"
#include "gpushare/solve/topology_set.hpp"
#include "gpushare/solve/topology_score.hpp"
#include "gpushare/solve/quota_model.hpp"
#include "gpushare/solve/quota_preemption.hpp"
#include "gpushare/solve/quota_admission.hpp"
#include "gpushare/solve/quota_schedule.hpp"
#include "gpushare/modes/aliyun/aliyun.hpp"
#include "gpushare/modes/aliyun/policy.hpp"
#include "gpushare/modes/hami/hami.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"
#include "gpushare/modes/nvidia/policy.hpp"
#include "gpushare/modes/tencent/admission.hpp"
#include "gpushare/modes/tencent/policy.hpp"
#include "gpushare/modes/tencent/quota.hpp"
#include "gpushare/modes/tencent/topology.hpp"
#include "gpushare/sim/go_rand.hpp"
#include "gpushare/sim/openb.hpp"
#include "gpushare/sim/state.hpp"
#include "gpushare/sim/learner.hpp"
#include "gpushare/sim/policies/strand_aware_fgd.hpp"
#include "gpushare/sim/policies/host_reserving_fgd.hpp"
#include "gpushare/sim/policies.hpp"
#include "gpushare/sim/live_policy.hpp"
#include "gpushare/sim/score_index.hpp"
#include "gpushare/sim/replay.hpp"
#include "gpushare/sim/parallel_replay.hpp"
#include "gpushare/sim/tenant_replay.hpp"
#include "gpushare/sim/convert.hpp"
#include "gpushare/catalogue.hpp"
