"""The scripts reference page: Galaxy's ``manage_db.sh`` and ``db_dev.sh`` parsers, built at docs time.

The subcommands, flags and help texts come from Galaxy's own argparse builder; only which builder
methods each script calls is written here (those scripts live in a checkout, not in the package).
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from docs_build.generated.galaxy_pages import _doc, _md

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
