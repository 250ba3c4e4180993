"""Quoted output for the topics beyond the first fixes (see ``docs_build/checks/snippets.py``): every line
comes from an experiment with Galaxy's code (``docs_build/checks/experiments_topics.py``) or from
Galaxy's exception classes, at build time."""

from __future__ import annotations

from docs_build.checks import experiments_topics  # noqa: F401  (registers the experiments)
from docs_build.checks.experiments import experiment


def _block(*lines: str) -> str:
    return "\n".join(["```text", *lines, "```"])


def _steps(stderr: str) -> list[str]:
    return [line.split(":", 2)[2] for line in stderr.splitlines() if "Running " in line and line.startswith("INFO")]


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def multiple_current() -> str:
    found = experiment("multiple-current")
    return _block(
        "$ sh manage_db.sh downgrade 25.0        # from release 26.0",
        f"exit code {found['rc']}; alembic_version: {', '.join(found['rows'])}",
        "$ sh manage_db.sh downgrade -1",
        "Traceback (most recent call last): …",
        found["minus"]["error"] or "AssertionError",
        f"exit code {found['minus']['rc']}",
        "$ sh manage_db.sh upgrade +1",
        _last(found["plus"]["stdout"]),
        f"exit code {found['plus']['rc']}",
    )


def handed_over() -> str:
    found = experiment("handed-over")
    return _block(
        "# schema of release 22.01, migrate_version = 180, no alembic_version table",
        "$ sh manage_db.sh upgrade",
        *[line.split(":", 2)[2] for line in found["first"]],
        "…",
        *[line.split(":", 2)[2] for line in found["last"]],
        f"exit code {found['rc']}; {found['upgrades']} revisions ran; alembic_version: {', '.join(found['rows'])}; "
        f"migrate_version still {found['migrate_version'][0]}",
    )


def config_sources() -> str:
    found = experiment("config-sources")
    rows = [
        ("no config file found", "no-config"),
        ("config/galaxy.yml (found from the current directory)", "config-galaxy-yml"),
        ("--galaxy-config other.yml", "galaxy-config-other-yml"),
        ("GALAXY_CONFIG_OVERRIDE_DATABASE_CONNECTION=…/from_override", "gxy-override"),
        ("GALAXY_INSTALL_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION=…/tsi", "tsi-override-install"),
        ("GALAXY_INSTALL_CONFIG_OVERRIDE_DATABASE_CONNECTION=…/tsi", "tsi-override-database"),
        ("GALAXY_CONFIG_OVERRIDE_INSTALL_DATABASE_CONNECTION=…/tsi", "gxy-override-install"),
    ]
    lines = ["# get_configuration_from_file(), every script's first step: gxy URL | tsi URL"]
    for label, key in rows:
        lines += [f"{label}", f"    gxy: {found[key]['gxy']}", f"    tsi: {found[key]['tsi']}"]
    lines += [
        "# manage_db.sh init reads the config file from the command line itself:",
        f"manage_db.sh --galaxy-config other.yml init  ->  {found['init --galaxy-config']}",
        f"manage_db.sh -c other.yml init               ->  {found['init -c']}",
    ]
    return _block(*lines)


def run_alembic_forms() -> str:
    found = experiment("run-alembic")
    lines = [f"# a database at release 26.0: alembic_version {', '.join(found['start'])}"]
    for key, command in (
        ("gxy+1", "upgrade gxy@+1"),
        ("gxy-1", "downgrade gxy@-1"),
        ("bare+1", "upgrade +1"),
        ("heads", "upgrade heads"),
    ):
        run = found[key]
        lines.append(f"$ sh scripts/run_alembic.sh {command}")
        lines += _steps(run["stderr"])[:3] + (["…"] if len(_steps(run["stderr"])) > 3 else [])
        if run["rc"]:
            lines += ["Traceback (most recent call last): …", _last(run["stderr"])]
        lines.append(f"exit code {run['rc']}; alembic_version: {', '.join(run['rows'])}")
    return _block(*lines)


def offline_downgrade() -> str:
    found = experiment("run-alembic")
    sql = [line for line in found["sql-range"]["stdout"].splitlines() if line.strip()]
    return _block(
        "$ sh scripts/run_alembic.sh downgrade --sql gxy@-1",
        found["sql-no-range"]["error"],
        f"exit code {found['sql-no-range']['rc']}",
        "$ sh scripts/run_alembic.sh downgrade --sql fac9c76612f9:9930b68c85af",
        *sql[:6],
        f"… ({len(sql)} lines in all; nothing is sent to the database)",
    )


def tsi_revision() -> str:
    found = experiment("run-alembic")
    return _block(
        "$ sh scripts/run_alembic.sh revision --head=tsi@head -m 'tsi change' --rev-id 0123456789ab",
        found["tsi-revision"]["stdout"].strip(),
        "$ sh scripts/run_alembic.sh heads",
        *found["tsi-heads"]["stdout"].strip().splitlines(),
    )


def galaxy_error(name: str):
    """The text Galaxy's exception ``name`` carries, made by Galaxy's class with this code's heads."""

    def make() -> str:
        from galaxy.model.migrations import exceptions

        from docs_build.checks.claim_registry import _graph

        args = {
            "NoVersionTableError": ("galaxy",),
            "IncorrectSAMigrateVersionError": ("galaxy", 180),
            "SAMigrateError": ("galaxy", "manage_db.sh upgrade"),
            "RevisionNotFoundError": ("galaxy",),
            "OutdatedDatabaseError": ("galaxy", "9930b68c85af", _graph().heads("gxy")[0], "manage_db.sh upgrade"),
        }[name]
        return _block(f"{name}: {getattr(exceptions, name)(*args)}")

    return make


def custom_types() -> str:
    """The column types of ``galaxy.model.custom_types`` and how many gxy revisions import each."""
    import inspect
    import re

    from galaxy.model import custom_types as module
    from sqlalchemy.types import TypeDecorator

    from docs_build.checks.claim_registry import _revision_files

    imports = " ".join(
        " ".join(re.findall(r"from galaxy\.model\.custom_types import \(?([\w\s,]+)\)?", p.read_text(encoding="utf-8")))
        for p in _revision_files()
    )
    lines = ["| type | what it is | gxy revisions importing it |", "| --- | --- | --- |"]
    for name, cls in sorted(vars(module).items()):
        if inspect.isclass(cls) and issubclass(cls, TypeDecorator) and cls.__module__ == module.__name__:
            doc = (
                inspect.cleandoc(cls.__dict__.get("__doc__") or "")
                .split("\n\n")[0]
                .replace("\n", " ")
                .replace("|", "\\|")
            )
            uses = len(re.findall(r"\b" + name + r"\b", imports))
            lines.append(f"| `{name}` | {doc or '(no docstring)'} | {uses} |")
    return "\n".join(lines)


TOPIC_SNIPPETS = {
    "custom-types": custom_types,
    "multiple-current": multiple_current,
    "handed-over": handed_over,
    "config-sources": config_sources,
    "run-alembic-forms": run_alembic_forms,
    "offline-downgrade": offline_downgrade,
    "tsi-revision": tsi_revision,
    **{
        f"error-{slug}": galaxy_error(name)
        for slug, name in (
            ("no-version-table", "NoVersionTableError"),
            ("incorrect-sa-migrate-version", "IncorrectSAMigrateVersionError"),
            ("sa-migrate", "SAMigrateError"),
            ("revision-not-found", "RevisionNotFoundError"),
            ("outdated-database", "OutdatedDatabaseError"),
        )
    },
}
