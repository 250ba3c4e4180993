"""Reference pages read out of Galaxy's installed migration code at docs build time.

Everything here imports ``galaxy.model`` (seconds): it runs while MkDocs builds, never on the
CLI path. Each page is a pure function of the installed code (and, for the scripts page, of a
Galaxy checkout's scripts when one is given): nothing about Galaxy is typed here.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path


def _md(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _doc(obj) -> str:
    return inspect.cleandoc(inspect.getdoc(obj) or "")


# -- util.py: helpers, checks, context managers ------------------------------------------------


def _helper_class(func):
    """The DDLOperation subclass a helper instantiates (``create_table`` -> ``CreateTable``)."""
    from galaxy.model.migrations import util

    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            cls = getattr(util, node.func.id, None)
            if inspect.isclass(cls) and issubclass(cls, util.DDLOperation):
                return cls
    return None


def _repair_check(cls) -> str:
    """The condition a helper checks in repair mode, as written in ``pre_execute_check``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls.pre_execute_check)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            return ast.unparse(node.value).replace("self.", "")
    return ""


def util_catalogue() -> dict[str, list[dict]]:
    """Every public function of ``galaxy.model.migrations.util``, grouped by kind."""
    from galaxy.model.migrations import util

    groups: dict[str, list[dict]] = {"helpers": [], "checks": [], "context_managers": []}
    for name, func in inspect.getmembers(util, inspect.isfunction):
        if name.startswith("_") or func.__module__ != util.__name__:
            continue
        entry = {"name": name, "signature": f"{name}{inspect.signature(func)}", "doc": _doc(func)}
        if hasattr(func, "__wrapped__"):
            entry["doc"] = _doc(func.__wrapped__) or entry["doc"]
            groups["context_managers"].append(entry)
            continue
        cls = _helper_class(func)
        if cls is not None:
            entry.update(
                cls=cls.__name__,
                cls_doc=_doc(cls),
                alter=issubclass(cls, util.DDLAlterOperation),
                repair_check=_repair_check(cls),
            )
            groups["helpers"].append(entry)
        else:
            groups["checks"].append(entry)
    return groups


def _source_order(module) -> dict[str, int]:
    source = inspect.getsource(module)
    return {m.group(1): m.start() for m in re.finditer(r"^def (\w+)", source, re.M)}


def util_page() -> str:
    from galaxy.model.migrations import util

    order = _source_order(util)
    groups = {k: sorted(v, key=lambda e: order.get(e["name"], 0)) for k, v in util_catalogue().items()}
    out = [
        "# `util.py` helpers and checks",
        "",
        "Generated at build time with `inspect` from the installed "
        "`galaxy.model.migrations.util`: names, signatures and docstrings are Galaxy's own.",
        "A revision script imports these instead of calling `alembic.op` directly: each helper",
        "wraps one Alembic directive, runs ALTER-type changes in batch mode on SQLite, and in",
        "repair mode (`db_dev.sh upgrade --repair`) skips an object that already exists or is",
        "already gone. See [SQLite and PostgreSQL](../explanation/sqlite-postgresql.md) for why.",
        "",
        "## Helpers",
        "",
        "| helper | wraps | ALTER-type (SQLite batch mode, skipped with `--sql`) | runs in repair mode only if |",
        "| --- | --- | --- | --- |",
    ]
    for e in groups["helpers"]:
        alter = "yes" if e["alter"] else "no"
        out.append(
            f"| [`{e['name']}`](#{e['name']}) | {_md(e['cls_doc'])} (`{e['cls']}`) | {alter} "
            f"| `{_md(e['repair_check'])}` |"
        )
    for e in groups["helpers"]:
        out += ["", f"### `{e['name']}` {{#{e['name']}}}", "", "```python", e["signature"], "```", ""]
        out.append(f"{e['cls_doc']} Implemented by `{e['cls']}`.")
    out += [
        "",
        "## Checks",
        "",
        "Each returns whether the object exists in the database. In offline mode (`--sql`) there",
        "is no database to ask, so each returns its `default` argument instead.",
    ]
    for e in groups["checks"]:
        out += ["", f"### `{e['name']}` {{#{e['name']}}}", "", "```python", e["signature"], "```", ""]
        out.append(e["doc"] or "(no docstring)")
    out += ["", "## Context managers"]
    for e in groups["context_managers"]:
        out += ["", f"### `{e['name']}` {{#{e['name']}}}", "", "```python", e["signature"], "```", ""]
        out += ["```text", e["doc"], "```"]
    return "\n".join(out) + "\n"


# -- exceptions.py ------------------------------------------------------------------------------


def exception_catalogue() -> list[dict]:
    """Every exception class in ``galaxy.model.migrations.exceptions`` with its message text."""
    from galaxy.model.migrations import exceptions

    source = inspect.getsource(exceptions)
    order = {m.group(1): m.start() for m in re.finditer(r"^class (\w+)", source, re.M)}
    found = []
    for name, cls in inspect.getmembers(exceptions, inspect.isclass):
        if cls.__module__ != exceptions.__name__ or not issubclass(cls, Exception):
            continue
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
        placeholders = {p.name: f"<{p.name}>" for p in params}
        message = str(cls(**placeholders))
        found.append(
            {
                "name": name,
                "signature": f"{name}({', '.join(p.name for p in params)})",
                "message": message,
                "comment": _class_comment(source, name),
                "raised_by": raised_by(name),
            }
        )
    return sorted(found, key=lambda e: order.get(e["name"], 0))


def _class_comment(source: str, name: str) -> str:
    match = re.search(rf"^class {name}\b.*?\n((?:\s*#.*\n)+)", source, re.M)
    if not match:
        return ""
    return " ".join(line.strip().lstrip("#").strip() for line in match.group(1).splitlines())


def raised_by(name: str) -> list[str]:
    """``module.function`` for every ``raise Name(...)`` in Galaxy's migrations package."""
    import galaxy.model.migrations as package

    root = Path(package.__file__).parent
    places = []
    for path in sorted(root.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            for func in ast.walk(node) if isinstance(node, ast.FunctionDef) else []:
                if isinstance(func, ast.Raise) and isinstance(func.exc, ast.Call):
                    if getattr(func.exc.func, "id", None) == name:
                        places.append(f"{path.stem}.{_qualname(tree, node)}")
                        break
    return sorted(set(places))


def _qualname(tree: ast.Module, func: ast.FunctionDef) -> str:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and func in node.body:
            return f"{node.name}.{func.name}"
    return func.name


def exceptions_page() -> str:
    out = [
        "# Galaxy's migration exceptions",
        "",
        "Generated at build time: every exception class in the installed",
        "`galaxy.model.migrations.exceptions`, instantiated with its parameter names as",
        "placeholders (`<db_or_model>` is `galaxy` or `tool shed install` when Galaxy raises",
        "it), so the text below is exactly what Galaxy prints. *Raised by* lists the functions in",
        "`galaxy.model.migrations` that raise it. Older documentation calls",
        "`IncorrectSAMigrateVersionError` by its former name, `IncorrectVersionError`.",
        "What Galaxy checks before raising each one is drawn in",
        "[What Galaxy does at startup](../explanation/startup.md).",
        "",
        "| exception | raised by |",
        "| --- | --- |",
    ]
    catalogue = exception_catalogue()
    for e in catalogue:
        where = ", ".join(f"`{p}`" for p in e["raised_by"]) or "(not raised in `galaxy.model.migrations`)"
        out.append(f"| [`{e['name']}`](#{e['name'].lower()}) | {where} |")
    for e in catalogue:
        out += ["", f"## `{e['name']}` {{#{e['name'].lower()}}}", "", "```python", e["signature"], "```", ""]
        if e["comment"]:
            out += [f"Galaxy's comment: *{_md(e['comment'])}*", ""]
        out += ["Message:", "", "```text", e["message"], "```"]
    return "\n".join(out) + "\n"


# -- the scripts and their argument parsers -------------------------------------------------------
