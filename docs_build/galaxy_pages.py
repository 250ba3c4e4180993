"""Reference pages read out of Galaxy's installed migration code at docs build time.

Everything here imports ``galaxy.model`` (seconds): it runs while MkDocs builds, never on the
CLI path. Each page is a pure function of the installed code: nothing about Galaxy is typed
here except which argparse builder methods each shell script calls (those scripts live in a
Galaxy checkout, not in the ``galaxy-data`` package; see ``SCRIPT_BUILDERS``).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import textwrap
from pathlib import Path

# Which ``BaseParserBuilder`` methods each of Galaxy's scripts calls, copied from
# scripts/db.py (manage_db.sh) and scripts/db_dev.py (scripts/db_dev.sh) in a Galaxy checkout.
# The subcommands, flags and help texts themselves come from Galaxy's builder at build time.
SCRIPT_BUILDERS: dict[str, dict] = {
    "manage_db.sh": {
        "python": "scripts/db.py",
        "description": "the admin script: upgrade, downgrade, version, dbversion, init",
        "global": [(("-c", "--galaxy-config"), "config", "Alternate Galaxy configuration file")],
        "calls": [
            ("add_upgrade_command", {}),
            ("add_downgrade_command", {}),
            ("add_version_command", {}),
            ("add_dbversion_command", {}),
            ("add_init_command", {}),
        ],
    },
    "scripts/db_dev.sh": {
        "python": "scripts/db_dev.py",
        "description": "the developer script: everything manage_db.sh has, plus revision, history, show "
        "and the --repair option",
        "global": [
            (("-c", "--galaxy-config"), "config", "Alternate Galaxy configuration file"),
            (("--raiseerr",), "raiseerr", "Raise a full stack trace on error"),
        ],
        "calls": [
            ("add_upgrade_command", {"dev_options": True}),
            ("add_downgrade_command", {"dev_options": True}),
            ("add_version_command", {}),
            ("add_dbversion_command", {}),
            ("add_init_command", {}),
            ("add_revision_command", {}),
            ("add_history_command", {}),
            ("add_show_command", {}),
        ],
    },
}


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


def build_script_parser(script: str) -> argparse.ArgumentParser:
    """The parser Galaxy's ``script`` builds, assembled with Galaxy's own ``ParserBuilder``."""
    from galaxy.model.migrations.dbscript import ParserBuilder

    spec = SCRIPT_BUILDERS[script]
    parser = argparse.ArgumentParser(prog=Path(script).name, add_help=True)
    for flags, dest, help_text in spec["global"]:
        kwargs = {"action": "store_true"} if dest == "raiseerr" else {"dest": dest}
        parser.add_argument(*flags, help=help_text, **kwargs)
    builder = ParserBuilder(parser)
    for method, kwargs in spec["calls"]:
        getattr(builder, method)(**kwargs)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> list[dict]:
    """Each subcommand of ``parser``: name, aliases, help, usage and arguments."""
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {choice.dest: choice.help for choice in action._choices_actions}
    seen: dict[int, dict] = {}
    for name, sub in action.choices.items():
        entry = seen.get(id(sub))
        if entry is None:
            entry = seen[id(sub)] = {
                "name": name,
                "aliases": [],
                "help": helps.get(name, ""),
                "usage": " ".join(sub.format_usage().split()).removeprefix("usage: "),
                "arguments": arguments(sub),
            }
        elif name != entry["name"]:
            entry["aliases"].append(name)
    return list(seen.values())


def arguments(parser: argparse.ArgumentParser) -> list[dict]:
    found = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        found.append(
            {
                "flags": ", ".join(action.option_strings) or action.dest,
                "help": action.help or "",
                "required": bool(action.required) or (not action.option_strings and action.nargs != "?"),
            }
        )
    return found


def _command_section(level: str, prefix: str, command: dict) -> list[str]:
    aliases = f" (alias {', '.join(f'`{a}`' for a in command['aliases'])})" if command["aliases"] else ""
    out = ["", f"{level} `{prefix} {command['name']}`{aliases}", "", _md(command["help"]), ""]
    out += ["```text", f"{prefix} {command['usage'].split(' ', 1)[1]}", "```"]
    if command["arguments"]:
        out += ["", "| argument | required | help |", "| --- | --- | --- |"]
        out += [
            f"| `{a['flags']}` | {'yes' if a['required'] else 'no'} | {_md(a['help'])} |" for a in command["arguments"]
        ]
    return out


def alembic_parser() -> argparse.ArgumentParser:
    import alembic.config

    return alembic.config.CommandLine(prog="run_alembic.sh").parser


def scripts_page() -> str:
    import alembic
    from galaxy.model.migrations import scripts as gscripts
    from galaxy.model.migrations.base import BaseParserBuilder

    out = [
        "# Galaxy's migration scripts",
        "",
        "Generated at build time. `manage_db.sh` and `scripts/db_dev.sh` are built with Galaxy's",
        "own `ParserBuilder` (`galaxy.model.migrations.dbscript`, on `BaseParserBuilder` in",
        "`base.py`): this page builds the same parsers with the installed code and lists every",
        "subcommand and flag they accept. Which builder methods each script calls is taken from",
        "`scripts/db.py` and `scripts/db_dev.py` of a Galaxy checkout (they are not in the",
        "`galaxy-data` package). Run each from the root of a Galaxy checkout.",
        "",
        "| script | Python entry point | what it is |",
        "| --- | --- | --- |",
    ]
    for script, spec in SCRIPT_BUILDERS.items():
        out.append(f"| [`{script}`](#{_slug(script)}) | `{spec['python']}` | {spec['description']} |")
    out += [
        "| [`scripts/run_alembic.sh`](#scripts-run_alembic-sh) | `scripts/run_alembic.py` | Alembic's own "
        "command line with Galaxy's `alembic.ini` and both database URLs |",
        "| [`create_db.sh`](#create_db-sh) | `scripts/create_db.py` | creates and initializes the "
        "database(s) the way Galaxy does at startup |",
    ]
    builder_methods = sorted(n for n in vars(BaseParserBuilder) if n.startswith("add_"))
    for script, spec in SCRIPT_BUILDERS.items():
        parser = build_script_parser(script)
        out += ["", f"## `{script}` {{#{_slug(script)}}}", ""]
        calls = ", ".join(f"`{m}({', '.join(f'{k}={v}' for k, v in kw.items())})`" for m, kw in spec["calls"])
        out += [f"Builder calls: {calls}.", ""]
        out += ["Options before the subcommand:", "", "| option | help |", "| --- | --- |"]
        out += [f"| `{', '.join(flags)}` | {help_text} |" for flags, _, help_text in spec["global"]]
        for command in subcommands(parser):
            out += _command_section("###", script, command)
    out += [
        "",
        "All `BaseParserBuilder` methods: " + ", ".join(f"`{m}`" for m in builder_methods) + ".",
        "A relative target (`+1`, `-1`) gets the `gxy@` prefix, a release tag (`25.0` or",
        "`release_25.0`) becomes its revision, and `upgrade` with no revision upgrades `gxy@head`",
        "then `tsi@head` (see `DbScript` in `dbscript.py`). A failing Alembic command prints",
        "`FAILED: ...` and exits 1.",
        "",
        "## `scripts/run_alembic.sh` {#scripts-run_alembic-sh}",
        "",
        f"The whole command line of the installed Alembic ({alembic.__version__}). Galaxy's wrapper",
        f"inserts `--config lib/galaxy/model/migrations/alembic.ini`, takes `{gscripts.CONFIG_FILE_ARG} FILE`",
        "out of the arguments to find Galaxy's configuration, and passes both database URLs as",
        "`-x gxy_url=... -x tsi_url=...`; `env.py` then picks the URL from a `gxy@`/`tsi@`",
        "prefix or the revision's branch label. From `invoke_alembic`'s docstring:",
        "",
        "```text",
        _doc(gscripts.invoke_alembic),
        "```",
        "",
        "Options before the subcommand:",
        "",
        "| argument | required | help |",
        "| --- | --- | --- |",
    ]
    parser = alembic_parser()
    out += [f"| `{a['flags']}` | {'yes' if a['required'] else 'no'} | {_md(a['help'])} |" for a in arguments(parser)]
    for command in subcommands(parser):
        out += _command_section("###", "run_alembic.sh", command)
    out += [
        "",
        "## `create_db.sh` {#create_db-sh}",
        "",
        "Reads Galaxy's configuration (optionally `--galaxy-config FILE`) and calls",
        "`verify_databases_via_script(gxy_config, tsi_config, is_auto_migrate)`: the same",
        "decisions Galaxy makes at startup, described in",
        "[What Galaxy does at startup](../explanation/startup.md). Its signature in the installed code:",
        "",
        "```python",
        f"verify_databases_via_script{_signature('galaxy.model.migrations', 'verify_databases_via_script')}",
        "```",
    ]
    return "\n".join(out) + "\n"


def _signature(module: str, name: str) -> str:
    import importlib

    return str(inspect.signature(getattr(importlib.import_module(module), name)))


def _slug(script: str) -> str:
    return script.replace("/", "-").replace(".", "-")
