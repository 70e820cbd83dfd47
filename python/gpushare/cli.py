"""The ``gpushare`` command line.

Subcommands
-----------
inspect --url URL | --file FILE
    Print an extender's allocation state per node and GPU, like ``kubectl inspect gpushare``.
conform FILE...
    Run conformance suite files (format: ``shared/data/conformance/README.md``).  Prints one
    line per failed case (id, expected, got) and closes with ``N passed, M failed``.  Exit
    status 1 if any case failed or a file's suite is not supported by this build, 2 if a file
    cannot be read.
replay --nodes CSV --pods CSV --policy NAME [--seeds 42-51] [--inflation 1.3] [--at 100] [--plot PNG]
    Replay an openb trace with the FGD study's protocol and print the medians over seeds of
    allocated, unallocated and fragmented GPU % at the given arrived-demand step (default 100).
    ``--policy all`` runs the six policies of the study. Exit status 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional, Sequence

from . import _core


def _cmd_conform(args: argparse.Namespace) -> int:
    passed = failed = 0
    status = 0
    for path in args.files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            report = _core.run_conformance(text, os.path.dirname(os.path.abspath(path)))
        except (OSError, _core.GpushareError) as e:
            print(f"{path}: error: {e}", file=sys.stderr)
            return 2
        if not report.supported:
            known = ", ".join(_core.supported_suites()) or "none yet"
            print(f"{path}: suite '{report.suite}' is not supported by this build (supported: {known})")
            status = 1
            continue
        for fail in report.failures:
            print(f"FAIL {report.suite} {fail.id}: expected {fail.expected} got {fail.got}")
        if args.verbose:
            print(f"{path}: {report.suite}: {report.passed} passed, {report.failed} failed")
        passed += report.passed
        failed += report.failed
    if failed:
        status = 1
    print(f"{passed} passed, {failed} failed")
    return status


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import fetch_inspect, format_inspect

    try:
        if args.url:
            doc = fetch_inspect(args.url)
        else:
            with open(args.file, encoding="utf-8") as f:
                doc = json.load(f)
        text = json.dumps(doc, indent=2) if args.json else format_inspect(doc)
    except (OSError, ValueError) as e:
        print(f"gpushare inspect: {e}", file=sys.stderr)
        return 2
    print(text)
    return 0


def _parse_seeds(text: str) -> List[int]:
    seeds: List[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            if int(hi) < int(lo):
                raise argparse.ArgumentTypeError(f"seed range '{part}' is empty")
            seeds.extend(range(int(lo), int(hi) + 1))
        elif part:
            seeds.append(int(part))
    if not seeds:
        raise argparse.ArgumentTypeError("no seeds given")
    return seeds


def _cmd_replay(args: argparse.Namespace) -> int:
    from . import sim

    try:
        nodes, pods = sim.load_openb(args.nodes, args.pods)
    except (OSError, _core.GpushareError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    names = list(sim.POLICIES) if args.policy == "all" else [args.policy]
    known = sim.policies()
    for n in names:
        if n not in known:
            print(f"error: unknown policy '{n}' (known: {', '.join(known)})", file=sys.stderr)
            return 2
    seeds = args.seeds
    print(f"{len(nodes)} nodes, {len(pods)} pods, seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), "
          f"inflation {args.inflation}; medians at {args.at}% arrived")
    print(f"{'policy':<14} {'allocated%':>11} {'unallocated%':>13} {'fragmented%':>12} {'seconds':>8}")
    frames = []
    for n in names:
        t0 = time.perf_counter()
        df = sim.replay(nodes, pods, policy=n, seeds=seeds, inflation=args.inflation, timed=args.timed)
        secs = time.perf_counter() - t0
        frames.append(df)
        row = sim.summary_at(df, args.at).iloc[0]
        print(f"{n:<14} {row.allocated_pct:>11.2f} {row.unallocated_pct:>13.2f} {row.fragmentation_pct:>12.2f}"
              f" {secs:>8.2f}", flush=True)
    if args.plot:
        import pandas as pd

        sim.plot(pd.concat(frames), args.plot, title=f"{os.path.basename(args.pods)}, median over {len(seeds)} seeds")
        print(f"plot written to {args.plot}")
    if args.csv:
        import pandas as pd

        pd.concat(frames).to_csv(args.csv, index=False)
        print(f"per-step metrics written to {args.csv}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gpushare", description="GPU-sharing placement, simulation and conformance tools.")
    p.add_argument("--version", action="version", version=f"gpushare {_core.__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    c = sub.add_parser("conform", help="run conformance suite files and print 'N passed, M failed'")
    c.add_argument("files", nargs="+", metavar="FILE", help="suite JSON files")
    c.add_argument("-v", "--verbose", action="store_true", help="also print a summary line per file")
    c.set_defaults(func=_cmd_conform)
    i = sub.add_parser("inspect", help="print per node and GPU allocated/total memory and compute (like kubectl inspect gpushare)")
    src = i.add_mutually_exclusive_group(required=True)
    src.add_argument("--url", help="an extender's inspect URL, e.g. http://127.0.0.1:39999/inspect")
    src.add_argument("--file", help="an inspect JSON document")
    i.add_argument("--json", action="store_true", help="print the JSON document instead of the table")
    i.set_defaults(func=_cmd_inspect)
    r = sub.add_parser("replay", help="replay an openb trace (FGD study protocol) and print medians over seeds")
    r.add_argument("--nodes", required=True, metavar="CSV", help="openb node list")
    r.add_argument("--pods", required=True, metavar="CSV", help="openb pod list")
    r.add_argument("--policy", default="FGD", metavar="NAME", help="policy name, or 'all' for the study's six")
    r.add_argument("--seeds", type=_parse_seeds, default=list(range(42, 52)), metavar="A-B",
                   help="seeds, e.g. 42-51 or 1,2,5 (default 42-51)")
    r.add_argument("--inflation", type=float, default=1.3, help="arrived demand target x GPU capacity (1.3)")
    r.add_argument("--at", type=int, default=100, metavar="PCT", help="arrived-demand step to report (100)")
    r.add_argument("--timed", action="store_true", help="honour creation/deletion times instead of the protocol")
    r.add_argument("--plot", default="", metavar="PNG", help="also write a plot of unallocated %% vs arrived %%")
    r.add_argument("--csv", default="", metavar="CSV", help="also write every seed's per-step metrics")
    r.set_defaults(func=_cmd_replay)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


__all__: List[str] = ["main", "build_parser"]
