"""`status --json` against Galaxy's own `dbversion` + `version`, on the same SQLite database.

Run: .venv/bin/python bench/status_vs_galaxy.py [--repeat N]
Prints the median wall time of each and the ratio (budget: ours at least 10x faster).
"""

from __future__ import annotations

import argparse

from common import galaxy, median, ours, sample, scratch_folder, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = scratch_folder()
    url = f"sqlite:///{sample('25.0', folder)}"
    galaxy_times = [
        timed(galaxy("dbversion", url), url) + timed(galaxy("version", url), url) for _ in range(args.repeat)
    ]
    our_times = [timed(ours("status", "--json", "--db", url)) for _ in range(args.repeat)]
    g, o = median(galaxy_times), median(our_times)
    print(f"database: {url} (Galaxy-made, at release 25.0)")
    print(f"Galaxy dbversion + version: {g:.2f} s (median of {args.repeat})")
    print(f"runbooks status --json:     {o:.2f} s (median of {args.repeat})")
    print(f"ratio: status is {g / o:.1f}x faster (budget: at least 10x)")


if __name__ == "__main__":
    main()
