"""What the layout test measures on a built page (tests/test_browser.py): tables that need scrolling
sideways, table rows taller than a few lines of text, runbook outputs cut at the right edge, a page
wider than the window."""

from __future__ import annotations

from pathlib import Path

# A row taller than this many lines of its own text (plus the cell's padding) is a paragraph in a cell.
MAX_ROW_LINES = 6

# The pages a person looks at before an upgrade: screenshots of each are kept as test artifacts.
KEY_PAGES = {
    "explanation/upgrade-compatibility/": "compatibility",
    "explanation/upgrade-time/": "upgrade-time",
    "tasks/upgrade/": "task-upgrade",
}

MEASURE = r"""(maxLines) => {
  const root = document.querySelector("article") || document.body;
  const name = (table) => {
    let node = table;
    while (node && node !== root) {
      let previous = node.previousElementSibling;
      while (previous && !/^H[1-6]$/.test(previous.tagName)) previous = previous.previousElementSibling;
      if (previous) return previous.textContent.replace(/[¶#]$/, "").trim();
      node = node.parentElement;
    }
    return "(top of page)";
  };
  const wide = [], tall = [];
  for (const table of root.querySelectorAll("table")) {
    if (table.offsetParent === null) continue;  // in a closed <details>: not on the screen
    const wrap = table.closest(".md-typeset__scrollwrap") || table.parentElement;
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      wide.push({table: name(table), width: wrap.scrollWidth, room: wrap.clientWidth});
    }
    for (const row of table.rows) {
      const cell = row.cells[0];
      if (!cell) continue;
      const style = getComputedStyle(cell);
      const line = parseFloat(style.lineHeight) || 1.6 * parseFloat(style.fontSize);
      const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
      const height = row.getBoundingClientRect().height;
      if (height > maxLines * line + padding + 2) {
        tall.push({table: name(table), row: row.innerText.slice(0, 60), px: Math.round(height),
                   lines: Math.round((height - padding) / line)});
      }
    }
  }
  const cut = [];  // runbook outputs whose lines run past the block's right edge
  for (const code of root.querySelectorAll(".jp-OutputArea-output pre > code")) {
    if (code.scrollWidth > code.clientWidth + 1) cut.push(code.innerText.split("\n")[0].slice(0, 60));
  }
  const page = document.documentElement.scrollWidth;
  return {wide, tall, cut, wider_than_window: page > window.innerWidth + 1 ? page : 0};
}"""


def site_pages(site: Path) -> list[str]:
    """Every page of the built site, as a path under its root: ``""``, ``tasks/upgrade/``, ..."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        folder = index.parent.relative_to(site).as_posix()
        if folder.startswith(("assets", "search")):
            continue
        pages.append("" if folder == "." else f"{folder}/")
    return pages
