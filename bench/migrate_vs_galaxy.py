"""Upgrade and downgrade wall time against Galaxy's own command on the same database.

Run: .venv/bin/python bench/migrate_vs_galaxy.py [--repeat N]
Each side gets a fresh copy of the same Galaxy-made SQLite database. Ours runs with
--no-backup for the ratio (budget: within 10% of Galaxy's); the backup is timed apart.
"""

from __future__ import annotations

import argparse
import re
import subprocess

from common import PROJECT, copy, galaxy, median, ours, sample, scratch_folder, timed

from runbooks.settings import HOME_ENV


def measure(name, source, folder, galaxy_argv, our_args, repeat):
    galaxy_times, our_times = [], []
    for i in range(repeat):
        url = copy(source, folder, f"g{name}{i}.sqlite")
        galaxy_times.append(timed(galaxy_argv(url), url))
        url = copy(source, folder, f"o{name}{i}.sqlite")
        our_times.append(timed(ours(*our_args, "--db", url, "--yes", "--no-backup")))
    g, o = median(galaxy_times), median(our_times)
    print(f"{name}: Galaxy {g:.2f} s, runbooks {o:.2f} s, ratio {o / g:.2f} (budget: at most 1.10)")


def backup_seconds(source, folder) -> str:
    url = copy(source, folder, "backup-probe.sqlite")
    env = {HOME_ENV: str(folder / "home")}
    import os

    out = subprocess.run(
        ours("upgrade", "--db", url, "--yes"), cwd=PROJECT, env={**os.environ, **env}, capture_output=True, text=True
    ).stdout
    found = re.search(r"Backup: \S+ \(([\d.]+)s\)", out)
    return found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = scratch_folder()
    at_25 = sample("25.0", folder)
    head = sample(None, folder)
    print("databases: Galaxy-made SQLite samples (25.0 and head), fresh copy per run")
    measure("upgrade 25.0 -> head", at_25, folder, lambda url: galaxy("upgrade", url), ["upgrade"], args.repeat)
    measure(
        "downgrade head -> 26.0",
        head,
        folder,
        lambda url: galaxy("downgrade", url, "9930b68c85af"),
        ["downgrade", "26.0"],
        args.repeat,
    )
    print(f"backup before the upgrade (SQLite backup API): {backup_seconds(at_25, folder)} s, not in the ratios")


if __name__ == "__main__":
    main()
