// Declarations of the pybind11 binding functions, one per C++ layer; module.cpp calls them.
#pragma once

#include <pybind11/pybind11.h>

namespace gpushare_py {
void bind_errors(pybind11::module_& m);
void bind_model(pybind11::module_& m);
void bind_solve(pybind11::module_& m);
void bind_conform(pybind11::module_& m);
void bind_inspect(pybind11::module_& m);
void bind_sim(pybind11::module_& m);
void bind_sim_tenants(pybind11::module_& m);
void bind_topology(pybind11::module_& m);
void bind_quota(pybind11::module_& m);
void bind_quota_config(pybind11::module_& m);
void bind_k8s(pybind11::module_& m);
}  // namespace gpushare_py
