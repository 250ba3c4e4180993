"""Finding Galaxy's migration environment and a checkout's configured database."""

from __future__ import annotations

import json

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.errors import UsageError
from runbooks.settings import GALAXY_DB_OVERRIDE_ENV, GALAXY_ROOT_ENV

from conftest import run_cli


@pytest.fixture
def checkout(tmp_path, env):
    """A Galaxy checkout layout whose lib/galaxy/model is the installed package's (linked)."""
    root = tmp_path / "galaxy"
    (root / "lib" / "galaxy").mkdir(parents=True)
    (root / "lib" / "galaxy" / "model").symlink_to(env.migrations_dir.parent)
    (root / "config").mkdir()
    return root


def test_package_environment_has_both_branches(env, graph):
    assert env.alembic_ini.is_file() and env.root is None
    assert len(graph.heads("gxy")) == 1 and len(graph.heads("tsi")) == 1
    assert graph.release_tags["22.01"] == "base"
    assert graph.revisions["d4a650f47a3c"].branch_labels == ("tsi",)


def test_reading_the_graph_does_not_import_galaxy_model():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from runbooks.code.environment import GalaxyEnv; from runbooks.code.revisions import RevisionGraph\n"
        "RevisionGraph.load(GalaxyEnv.from_package())\n"
        "print('galaxy.model' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_checkout_default_database_is_galaxys_default(checkout):
    env = GalaxyEnv.from_checkout(checkout)
    assert env.configured_database_url() == (f"sqlite:///{checkout}/database/universe.sqlite?isolation_level=IMMEDIATE")
    report = json.loads(run_cli("status", "--json", "--galaxy-root", str(checkout)).stdout)
    assert report["state"] == "missing"
    assert not (checkout / "database").exists()


def test_checkout_configured_database_and_override(checkout, sqlite_db, monkeypatch):
    db = sqlite_db("25.1")
    (checkout / "config" / "galaxy.yml").write_text(f"galaxy:\n  database_connection: {db.secret()}\n")
    report = json.loads(run_cli("status", "--json", "--galaxy-root", str(checkout)).stdout)
    assert report["database"] == db.masked() and report["branches"]["gxy"]["release"] == "25.1"
    assert str(checkout) in report["galaxy"]
    other = sqlite_db("26.0")
    env = {GALAXY_DB_OVERRIDE_ENV: other.secret(), GALAXY_ROOT_ENV: str(checkout)}
    report = json.loads(run_cli("status", "--json", env=env).stdout)
    assert report["branches"]["gxy"]["release"] == "26.0"


def test_not_a_checkout_and_bad_config(tmp_path, checkout):
    with pytest.raises(UsageError, match="is not a Galaxy checkout"):
        GalaxyEnv.from_checkout(tmp_path)
    (checkout / "config" / "galaxy.yml").write_text("galaxy: [unclosed\n")
    result = run_cli("status", "--galaxy-root", str(checkout))
    assert result.returncode == 2 and "is not valid YAML" in result.stderr
