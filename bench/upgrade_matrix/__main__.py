"""python -m bench.upgrade_matrix: run cells, merge them, refresh the committed results.

python -m bench.upgrade_matrix refresh                  # every release x dialect -> results file
python -m bench.upgrade_matrix cell --release 23.0.6 --dialect sqlite --out cell.json
python -m bench.upgrade_matrix merge cells/*.json       # into bench/results/upgrade_matrix.json
python -m bench.upgrade_matrix leftovers                # results -> runbooks/doctor/galaxy_leftovers.json
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

from bench.upgrade_matrix import DIALECTS, RESULTS


def cell_command(args) -> int:
    from bench.upgrade_matrix.cell import run_cell

    cell = run_cell(args.release, args.dialect, with_reverse=not args.no_reverse)
    text = json.dumps(cell, indent=1, sort_keys=True) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    print(f"{args.release} {args.dialect}: {cell['outcome']} ({cell['wall_s']}s)", file=sys.stderr)
    return 0


def merge(cells: list[dict], results: Path = RESULTS) -> dict:
    """The results file with these cells put in (a cell replaces the one for the same release and dialect)."""
    current = json.loads(results.read_text()) if results.is_file() else {}
    by_key = {(c["release"], c["dialect"]): c for c in current.get("cells", [])}
    by_key |= {(c["release"], c["dialect"]): c for c in cells}
    ordered = sorted(by_key.values(), key=lambda c: (_release_key(c["release"]), DIALECTS.index(c["dialect"])))
    merged = {
        "about": "bench/upgrade_matrix: each release's data fixture upgraded to head by `python -m runbooks upgrade`",
        "galaxy_data": version("galaxy-data"),
        "cells": ordered,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")
    return merged


def _release_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def merge_command(args) -> int:
    cells = [json.loads(Path(path).read_text()) for path in args.cells]
    merged = merge(cells, Path(args.results))
    print(f"{args.results}: {len(merged['cells'])} cells", file=sys.stderr)
    return leftovers_command(args)


def refresh_command(args) -> int:
    from bench.upgrade_matrix.cell import run_cell
    from bench.upgrade_matrix.fixtures import releases_with_fixtures

    releases = args.release or releases_with_fixtures()
    for release in releases:
        for dialect in args.dialect or DIALECTS:
            cell = run_cell(release, dialect)
            merge([cell], Path(args.results))  # after each cell: a long run that stops keeps what it did
            print(f"{release} {dialect}: {cell['outcome']} ({cell['wall_s']}s)", file=sys.stderr, flush=True)
    return leftovers_command(args)


def leftovers_command(args) -> int:
    from bench.upgrade_matrix.leftovers import CATALOGUE, write

    made = write(Path(args.results))
    counts = ", ".join(f"{dialect}: {len(c['paths'])} paths" for dialect, c in made["dialects"].items())
    print(f"{CATALOGUE.relative_to(CATALOGUE.parents[2])}: {counts}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.upgrade_matrix", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("cell", help="run one cell (release x dialect), print or write its JSON")
    one.add_argument("--release", required=True)
    one.add_argument("--dialect", required=True, choices=DIALECTS)
    one.add_argument("--out", help="write the cell here (default: stdout)")
    one.add_argument("--no-reverse", action="store_true", help="skip the downgrade to the release's tag")
    one.set_defaults(run=cell_command)
    gather = commands.add_parser("merge", help="put cell files into the results file")
    gather.add_argument("cells", nargs="+")
    gather.add_argument("--results", default=str(RESULTS))
    gather.set_defaults(run=merge_command)
    every = commands.add_parser("refresh", help="run every cell (or those named) and rewrite the results file")
    every.add_argument("--release", nargs="+")
    every.add_argument("--dialect", nargs="+", choices=DIALECTS)
    every.add_argument("--results", default=str(RESULTS))
    every.set_defaults(run=refresh_command)
    catalogue = commands.add_parser("leftovers", help="write the doctor's catalogue of what Galaxy's paths leave")
    catalogue.add_argument("--results", default=str(RESULTS))
    catalogue.set_defaults(run=leftovers_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
