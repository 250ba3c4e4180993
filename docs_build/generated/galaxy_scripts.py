"""The scripts reference page: Galaxy's ``manage_db.sh`` and ``db_dev.sh`` parsers, built at docs time.

Everything on the page is read from Galaxy's files. The subcommands, flags and help texts come
from the installed package's argparse builder (``ParserBuilder``). Which builder methods each
script calls lives in ``scripts/db.py`` and ``scripts/db_dev.py`` of a Galaxy checkout, which the
``galaxy-data`` package does not ship: with ``RUNBOOK_DOCS_GALAXY_ROOT`` naming a checkout, the page
reads those calls from its files (parsed, never run); without one, the page lists what the builder
offers and says that it did not read the scripts. Nothing here is a table typed by this project.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import os
import re
from pathlib import Path

from docs_build.generated.galaxy_pages import _doc, _md
from docs_build.settings import DOCS_GALAXY_ROOT_ENV

SCRIPTS = ("manage_db.sh", "scripts/db_dev.sh")  # the shell scripts an admin and a developer run


def galaxy_root() -> Path | None:
    root = os.environ.get(DOCS_GALAXY_ROOT_ENV)
    return Path(root) if root else None


def read_script(root: Path, script: str) -> dict:
    """What Galaxy's ``script`` (a ``.sh`` of the checkout at ``root``) does: the Python file it
    runs, the options it adds before the subcommand, and the builder calls it makes, in order."""
    shell = (root / script).read_text(encoding="utf-8")
    python = re.search(r"python3?\s+(?:\./)?(scripts/\w+\.py)", shell)
    if python is None:
        raise ValueError(f"{root / script} runs no scripts/*.py")
    tree = ast.parse((root / python[1]).read_text(encoding="utf-8"))
    spec: dict = {"python": python[1], "global": [], "calls": []}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords if isinstance(k.value, ast.Constant)}
        if node.func.attr == "add_argument" and isinstance(node.func.value, ast.Name):
            flags = tuple(ast.literal_eval(a) for a in node.args)
            spec["global"].append((node.func.value.id, flags, keywords))
        elif node.func.attr.startswith("add_") and node.func.attr.endswith("_command"):
            spec["calls"].append((node.lineno, node.func.attr, keywords))
    builder_parser_names = {
        a.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "ParserBuilder"
        for a in n.args
        if isinstance(a, ast.Name)
    }
    spec["global"] = [(flags, kw) for owner, flags, kw in spec["global"] if owner in builder_parser_names]
    spec["calls"] = [(method, kw) for _, method, kw in sorted(spec["calls"])]
    return spec


def read_scripts(root: Path | None) -> dict[str, dict] | None:
    return None if root is None else {script: read_script(root, script) for script in SCRIPTS}


def build_script_parser(script: str, spec: dict | None = None) -> argparse.ArgumentParser:
    """The parser ``script`` builds with Galaxy's ``ParserBuilder``: from ``spec`` (read from the
    script) when given, else every builder method with its developer options, behind the two
    options the scripts add (``-c/--galaxy-config``, ``--raiseerr``). The claim experiments run
    Galaxy's commands through the second form: the package has no script of its own."""
    from galaxy.model.migrations.dbscript import ParserBuilder

    parser = argparse.ArgumentParser(prog=Path(script).name, add_help=True)
    if spec is None:
        parser.add_argument("-c", "--galaxy-config", dest="config")
        parser.add_argument("--raiseerr", action="store_true")
        builder = ParserBuilder(parser)
        for method in builder_methods():
            takes_dev = "dev_options" in inspect.signature(getattr(builder, method)).parameters
            getattr(builder, method)(**({"dev_options": True} if takes_dev else {}))
        return parser
    for flags, keywords in spec["global"]:
        parser.add_argument(*flags, **keywords)
    builder = ParserBuilder(parser)
    for method, keywords in spec["calls"]:
        getattr(builder, method)(**keywords)
    return parser


def builder_methods() -> list[str]:
    from galaxy.model.migrations.base import BaseParserBuilder

    return [n for n, f in vars(BaseParserBuilder).items() if n.startswith("add_") and callable(f)]


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


def _repair_flags() -> set[str]:
    """The options ``dev_options=True`` adds to upgrade and downgrade (read from the builder)."""
    from galaxy.model.migrations.dbscript import ParserBuilder

    found = []
    for dev in (False, True):
        builder = ParserBuilder(argparse.ArgumentParser())
        builder.add_upgrade_command(dev_options=dev)
        found.append({f for a in builder.subparsers.choices["upgrade"]._actions for f in a.option_strings})
    return found[1] - found[0]


def _builder_section() -> list[str]:
    """Every subcommand Galaxy's builder offers, the developer options marked."""
    dev_flags = _repair_flags()
    out = ["", "## What Galaxy's `ParserBuilder` offers {#parser-builder}", ""]
    out += [
        "Each builder method adds one subcommand. `add_upgrade_command` and `add_downgrade_command`",
        "take `dev_options` (off unless the script passes `dev_options=True`), which adds "
        + ", ".join(f"`{f}`" for f in sorted(dev_flags))
        + ". `SCRIPT` stands for the script that calls the method.",
    ]
    for command in subcommands(build_script_parser("SCRIPT")):
        command["arguments"] = [
            {**a, "help": a["help"] + (" (only with `dev_options`)" if a["flags"] in dev_flags else "")}
            for a in command["arguments"]
        ]
        out += _command_section("###", "SCRIPT", command)
    return out


def _script_sections(specs: dict[str, dict]) -> list[str]:
    out = []
    for script, spec in specs.items():
        parser = build_script_parser(script, spec)
        out += ["", f"## `{script}` {{#{_slug(script)}}}", ""]
        calls = ", ".join(f"`{m}({', '.join(f'{k}={v}' for k, v in kw.items())})`" for m, kw in spec["calls"])
        out += [f"Runs `{spec['python']}`. Builder calls: {calls}.", ""]
        out += ["Options before the subcommand:", "", "| option | help |", "| --- | --- |"]
        out += [f"| `{', '.join(flags)}` | {_md(kw.get('help', ''))} |" for flags, kw in spec["global"]]
        for command in subcommands(parser):
            out += _command_section("###", script, command)
    return out


def scripts_page() -> str:
    from importlib import metadata

    import alembic
    from galaxy.model.migrations import scripts as gscripts

    root = galaxy_root()
    specs = read_scripts(root)
    read = (
        f"this build read them from the Galaxy checkout it was given ({DOCS_GALAXY_ROOT_ENV}), so the sections "
        "below say which builder methods each calls."
        if specs
        else f"this build was given no Galaxy checkout ({DOCS_GALAXY_ROOT_ENV}), so it did not read them: the "
        "section below lists what the builder offers, and the script decides which it calls."
    )
    out = [
        "# Galaxy's migration scripts",
        "",
        f"Generated at build time from the installed galaxy-data {metadata.version('galaxy-data')}. "
        "`manage_db.sh` (for admins) and `scripts/db_dev.sh` (for developers) are shell scripts of a Galaxy "
        "checkout; each runs a Python file that builds its command line with Galaxy's own `ParserBuilder` "
        "(`galaxy.model.migrations.dbscript`, on `BaseParserBuilder` in `base.py`). Those files are not in the "
        f"`galaxy-data` package: {read} Run each from the root of a Galaxy checkout.",
    ]
    out += _script_sections(specs) if specs else _builder_section()
    methods = ", ".join(f"`{m}`" for m in builder_methods())
    out += [
        "",
        f"All `BaseParserBuilder` methods: {methods}.",
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
