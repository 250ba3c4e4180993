"""``<!-- generated: chart-* -->``: charts drawn at build time from the committed scale results (bench/results).

Each chart is matplotlib's SVG, put in the page itself: no file to fetch, no request to another host.
Text, axes and grid are drawn in ``currentColor`` and the background is transparent, so a chart
follows the page's light or dark scheme; the series use mid-tone colours readable on both. The SVG
is the same from one build to the next (a fixed hash salt for its ids, no date in its metadata).
"""

from __future__ import annotations

import io
import re

from docs_build.generated.scale_results import scale_runs as _runs

INK = "#010203"  # text, axes and grid are drawn in this colour, then given the page's (currentColor)
SERIES = ("#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#a855f7")
STYLE = {
    "svg.hashsalt": "galaxy-migrations-docs",
    "svg.fonttype": "none",  # text stays text: the page's font, searchable, selectable
    "font.family": "sans-serif",
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "grid.color": INK,
    "grid.alpha": 0.2,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "legend.frameon": False,
}


def _svg(figure) -> str:
    """The figure as an inline ``<svg>``: page colours, no fixed size (it fills its column), no metadata."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    svg = out.getvalue()
    svg = svg[svg.index("<svg") :].replace(INK, "currentColor")
    svg = re.sub(r"font-family:[^;\"]*Mono[^;\"]*", "font-family: var(--md-code-font-family, monospace)", svg)
    svg = re.sub(r"font-family:(?! var)[^;\"]*", "font-family: inherit", svg)  # the page's own font
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', svg, count=1)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>\s*", "", svg, count=1, flags=re.S)  # CSS has it
    svg = re.sub(r'<g id="[^"]*"', "<g", svg)  # figure_1, axes_1...: every chart has them, ids must be unique
    return "\n".join(line for line in svg.splitlines() if line.strip())  # a blank line would end the HTML block


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _draw(make, alt: str, caption: str) -> str:
    import matplotlib

    with matplotlib.rc_context(STYLE):
        svg = _svg(make())
    svg = svg.replace('role="img"', f'role="img" aria-label="{alt}"', 1)
    return f'<figure class="chart" data-search-exclude>\n{svg}\n<figcaption>{caption}</figcaption>\n</figure>'


def _size_axis(axes, runs: list[dict]) -> None:
    """Database size on a log axis, each measured scale a labelled tick."""
    sizes = [run["generator"]["bytes"] / 1024**3 for run in runs]
    axes.set_xscale("log")
    axes.set_xticks(sizes, [f"{_size(s)}\n{run['scale']}" for s, run in zip(sizes, runs, strict=True)])
    axes.minorticks_off()
    axes.set_xlabel("database size (PostgreSQL), measured scale")


def _size(gib: float) -> str:
    return f"{gib:.0f} GB" if gib >= 10 else f"{gib:.1f} GB" if gib >= 1 else f"{gib * 1024:.0f} MB"


def _lines(axes, runs: list[dict], series: dict[str, list[float]]) -> None:
    sizes = [run["generator"]["bytes"] / 1024**3 for run in runs]
    for color, (label, values) in zip(SERIES, series.items(), strict=False):
        axes.plot(sizes, values, marker="o", color=color, label=label, linewidth=2)


def upgrade_time_chart() -> str:
    """Upgrade wall time (Galaxy's command, ours, Galaxy's migrations alone) against database size."""
    runs = _runs()
    if not runs:
        return "No measurements are committed yet."

    def make():
        figure = _figure(7, 3.2)
        axes = figure.add_subplot()
        series = {
            "Galaxy's command (wall)": [run["galaxy"]["wall_s"] for run in runs],
            "galaxy-migrations upgrade (wall)": [run["ours"]["wall_s"] for run in runs],
            "Galaxy's migrations alone": [run["galaxy"]["migrations_s"] for run in runs],
        }
        _lines(axes, runs, series)
        axes.set_ylim(0, 1.5 * max(max(values) for values in series.values()))  # room for the legend
        axes.set_ylabel("seconds")
        axes.legend(loc="upper left", fontsize=9, ncol=2)
        _size_axis(axes, runs)
        return figure

    jobs = f"{runs[0]['generator']['jobs']:,} to {runs[-1]['generator']['jobs']:,} jobs"
    return _draw(
        make,
        f"Upgrade time against database size, {jobs}",
        f"Upgrade from 25.0 to head: wall time against database size ({jobs}; medians of the turns).",
    )


def copy_time_chart() -> str:
    """A rehearsal, its copy of the database, a backup and a restore, against database size."""
    runs = _runs()
    if not runs:
        return "No measurements are committed yet."

    def make():
        figure = _figure(7, 3.4)
        axes = figure.add_subplot()
        series = {
            "rehearsal (upgrade --rehearse)": [run["rehearsal"]["wall_s"] for run in runs],
            "TEMPLATE copy, WAL_LOG": [run["rehearsal_copy"]["wal_log_s"] for run in runs],
            "TEMPLATE copy, FILE_COPY": [run["rehearsal_copy"]["file_copy_s"] for run in runs],
            "backup (pg_dump)": [run["backup"]["backup_s"] for run in runs],
            "restore (pg_restore)": [run["backup"]["restore_s"] for run in runs],
        }
        _lines(axes, runs, series)
        axes.set_yscale("log")
        axes.set_ylabel("seconds (log scale)")
        axes.legend(loc="upper left", fontsize=9)
        _size_axis(axes, runs)
        return figure

    return _draw(
        make,
        "Rehearsal, copy, backup and restore time against database size",
        "A rehearsal, the copy it makes, a backup and a restore: time against database size (log scales).",
    )


def revision_time_chart() -> str:
    """Each revision's time at the largest measured scale, in the order the upgrade runs them."""
    runs = _runs()
    if not runs:
        return "No measurements are committed yet."
    largest = max(runs, key=lambda run: run["generator"]["jobs"])
    revisions = largest["galaxy"]["revisions"]

    def make():
        figure = _figure(7, 0.22 * len(revisions) + 0.8)
        axes = figure.add_subplot()
        names = [rev["revision"] for rev in revisions]
        axes.barh(range(len(names)), [rev["seconds"] for rev in revisions], color=SERIES[0], height=0.7)
        axes.set_yticks(range(len(names)), names, fontfamily="monospace", fontsize=9)
        axes.invert_yaxis()  # the first revision the upgrade runs on top
        axes.grid(axis="y", visible=False)
        axes.set_xlabel("seconds (Galaxy's command)")
        return figure

    scale = f"{largest['scale']}, {largest['generator']['jobs']:,} jobs"
    return _draw(
        make,
        f"Time per revision at the largest scale ({scale})",
        f"Time per revision at the largest scale ({scale}), in the order the upgrade runs them.",
    )


SNIPPETS = {
    "chart-upgrade-time": upgrade_time_chart,
    "chart-copy-time": copy_time_chart,
    "chart-revision-time": revision_time_chart,
}
