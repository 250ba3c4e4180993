"""A small link checker over a built static site: every internal href/src and #anchor resolves."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

BASE = "http://site.invalid/"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if tag in ("a", "link", "script", "img", "iframe", "source") and attrs.get(key):
                self.links.append(attrs[key])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def _url_of(site: Path, path: Path) -> str:
    rel = path.relative_to(site).as_posix()
    return BASE + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def _file_for(site: Path, url: str) -> Path | None:
    rel = unquote(urlparse(url).path)[1:]
    candidate = site / rel
    if rel == "" or rel.endswith("/"):
        candidate = candidate / "index.html"
    elif candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def broken_links(site: Path) -> list[str]:
    """``page: link (why)`` for every internal link or anchor that does not resolve."""
    pages = {path: _parse(path) for path in site.rglob("*.html")}
    problems = []
    for path, page in sorted(pages.items()):
        here = _url_of(site, path)
        for link in page.links:
            scheme = urlparse(link).scheme
            if scheme and scheme not in ("http", "https"):
                continue  # mailto:, data:, javascript:
            absolute = urljoin(here, link)
            if not absolute.startswith(BASE):
                continue  # external
            url, fragment = urldefrag(absolute)
            target = _file_for(site, url)
            where = f"{path.relative_to(site)}: {link}"
            if target is None:
                problems.append(f"{where} (no such file)")
                continue
            if fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(fragment) not in ids:
                    problems.append(f"{where} (no anchor #{fragment})")
    return problems
