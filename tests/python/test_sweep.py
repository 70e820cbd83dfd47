"""gpushare.sweep: serial, thread pool and dask.distributed give identical DataFrames."""
import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

import gpushare as gs
from gpushare import sim
from gpushare.sweeps import subsample_nodes

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("GPUSHARE_DATA_DIR", os.path.join(HERE, "..", "..", "..", "shared", "data"))
NODES = os.path.join(DATA, "openb", "openb_node_list_gpu_node.csv")
PODS = os.path.join(DATA, "openb", "openb_pod_list_default.csv")
PODS_SHARE = os.path.join(DATA, "openb", "openb_pod_list_gpushare100.csv")

pytestmark = pytest.mark.skipif(not os.path.exists(NODES), reason="openb data not found")


@pytest.fixture(scope="module")
def traces():
    nodes, pods = sim.load_openb(NODES, PODS)
    out = {"default": (nodes, pods)}
    if os.path.exists(PODS_SHARE):
        out["gpushare100"] = (nodes, sim.load_openb(NODES, PODS_SHARE)[1])
    return out


def run(traces, executor=None):
    return gs.sweep(traces, policies=["BestFit", "FGD"], seeds=[1, 2], cluster_sizes=[60, 150],
                    executor=executor, max_pct=110)


def test_value_types_pickle_and_compare():
    n = gs.sim.SimNode("n1", 64000, 262144, 8, "V100M32")
    p = gs.sim.SimPod("p1", 4000, 8192, 1, 500, ["V100M32"], 10, 20)
    assert pickle.loads(pickle.dumps(n)) == n and pickle.loads(pickle.dumps(p)) == p
    assert pickle.loads(pickle.dumps(p)).gpu_spec == ["V100M32"]
    assert n != gs.sim.SimNode("n2", 64000, 262144, 8, "V100M32")


def test_subsample_nodes_keeps_spread_and_validates(traces):
    nodes = traces["default"][0]
    sub = subsample_nodes(nodes, 10)
    assert len(sub) == 10 and sub[0] == nodes[0] and sub[-1] == nodes[(9 * len(nodes)) // 10]
    with pytest.raises(ValueError, match="outside"):
        subsample_nodes(nodes, len(nodes) + 1)


def test_serial_sweep_shape_and_matches_direct_replay(traces):
    df = run(traces)
    combos = df[list(gs.sweeps.KEYS)].drop_duplicates()
    assert len(combos) == len(traces) * 2 * 2 * 2
    assert len(df) == len(combos) * 111
    one = df[(df.trace == "default") & (df.nodes == 60) & (df.policy == "FGD") & (df.seed == 2)]
    direct = sim.replay(subsample_nodes(traces["default"][0], 60), traces["default"][1], policy="FGD", seeds=[2],
                        max_pct=110)
    assert one.drop(columns=["trace", "nodes"]).reset_index(drop=True).equals(direct)


def test_thread_pool_equals_serial(traces):
    serial = run(traces)
    with ThreadPoolExecutor(max_workers=2) as ex:
        par = run(traces, ex)
    assert par.equals(serial)


def test_dask_local_cluster_equals_serial(traces):
    distributed = pytest.importorskip("distributed")
    serial = run(traces)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        par = run(traces, client.get_executor())
    assert par.equals(serial)


def test_unknown_policy_and_empty_sweep(traces):
    with pytest.raises(gs.NotFoundError, match="Nope"):
        gs.sweep(traces, policies=["Nope"], seeds=[1])
    with pytest.raises(ValueError, match="nothing to run"):
        gs.sweep(traces, policies=["FGD"], seeds=[])


def test_process_pool_equals_serial(traces):
    from concurrent.futures import ProcessPoolExecutor

    small = {"default": traces["default"]}
    serial = gs.sweep(small, policies=["FGD"], seeds=[5, 6], cluster_sizes=[50], max_pct=105)
    with ProcessPoolExecutor(max_workers=2) as ex:
        par = gs.sweep(small, policies=["FGD"], seeds=[5, 6], cluster_sizes=[50], max_pct=105, executor=ex)
    assert par.equals(serial)


def test_repeat_nodes_names_and_validation(traces):
    from gpushare.sweeps import repeat_nodes

    nodes = traces["default"][0][:5]
    rep = repeat_nodes(nodes, 3)
    assert len(rep) == 15 and rep[:5] == list(nodes)
    assert rep[5].name == nodes[0].name + "-r1" and rep[14].name == nodes[4].name + "-r2"
    assert (rep[7].cpu_milli, rep[7].memory_mib, rep[7].gpus, rep[7].model) == \
        (nodes[2].cpu_milli, nodes[2].memory_mib, nodes[2].gpus, nodes[2].model)
    assert len({n.name for n in rep}) == 15
    with pytest.raises(ValueError, match="times"):
        repeat_nodes(nodes, 0)


def test_cli_compare_scale_threads_and_local_dask_equal_serial(tmp_path, capsys):
    from gpushare import cli

    base = ["compare", "--nodes", NODES, "--pods", PODS, "--policies", "BestFit,FGD", "--seeds", "1-2",
            "--scale", "2", "--size", "150", "-q"]
    out = {}
    for name, extra in (("serial", []), ("threads", ["--workers", "2"])):
        assert cli.main(base + extra + ["--csv", str(tmp_path / f"{name}.csv")]) == 0
        out[name] = (tmp_path / f"{name}.csv").read_text()
    assert out["threads"] == out["serial"]
    if pytest.importorskip("distributed"):
        assert cli.main(base + ["--scheduler", "local", "--workers", "2", "--csv", str(tmp_path / "dask.csv")]) == 0
        assert (tmp_path / "dask.csv").read_text() == out["serial"]
    capsys.readouterr()
    assert cli.main(base + ["--scale", "0"]) == 2
    assert "--scale 0" in capsys.readouterr().err


def test_cli_compare_on_an_existing_dask_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed")
    from gpushare import cli

    base = ["compare", "--nodes", NODES, "--pods", PODS, "--policies", "FGD", "--seeds", "3-4", "--size", "90", "-q"]
    assert cli.main(base + ["--csv", str(tmp_path / "serial.csv")]) == 0
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None,
                                  protocol="tcp://", host="127.0.0.1") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert cli.main(base + ["--scheduler", cluster.scheduler_address, "--csv", str(tmp_path / "d.csv")]) == 0
    assert (tmp_path / "d.csv").read_text() == (tmp_path / "serial.csv").read_text()
