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
"""

from __future__ import annotations

import argparse
import json
import os
import sys
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
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args))


__all__: List[str] = ["main", "build_parser"]
