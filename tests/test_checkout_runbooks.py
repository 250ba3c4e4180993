"""The runbooks on a checkout of an older release (issue 22, item 3): demonstration states, default
targets and examples come from the code in use (its own tags and heads), not from the sample's 26.1;
``create`` on a checkout proves the new revision and leaves no file behind when ``keep`` is False.

One tree, 24.1 (its own venv: made once per machine in the user's cache, as test_checkouts does), and
the installed package for the sample's values.
"""

from __future__ import annotations

import pytest

from runbooks.code.environment import GalaxyEnv
from runbooks.code.revisions import RevisionGraph
from runbooks.code.targets import release_back, resolve_target
from runbooks.database.connections import inspect_database
from runbooks.database.urls import DatabaseUrl
from runbooks.doctor import diagnose
from runbooks.errors import UsageError
from runbooks.testing import scratch_states
from runbooks.testing.scratch_states import ScratchSet, behind_release, crossing_release, leftover

from conftest import run_cli
from test_checkouts import make_tree

pytestmark = pytest.mark.slow_release
VERSION = "24.1.4"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> GalaxyEnv:
    root = make_tree(VERSION, tmp_path_factory.mktemp("galaxy-24.1") / "galaxy")
    made = run_cli("sample", "--galaxy-root", str(root), str(root / "database" / "universe.sqlite"))
    assert made.returncode == 0, made.stderr
    return GalaxyEnv.from_checkout(root)


def gxy_files(env: GalaxyEnv) -> set[str]:
    return {path.name for path in env.versions_dir("gxy").glob("*.py")}


def test_demonstrations_come_from_the_code_in_use(checkout, graph):
    """The sample keeps its values; a 24.1 checkout gets its own (26.0, 25.1, 25.0 are not its targets)."""
    assert (behind_release(graph), leftover(graph), crossing_release(graph)) == (
        scratch_states.BEHIND_RELEASE,
        scratch_states.LEFTOVER,
        scratch_states.CROSSING_RELEASE,
    )
    assert release_back(graph, 2) == "25.1"  # the downgrade runbook's default, as before
    old = RevisionGraph.load(checkout)
    tags = set(old.release_tags)
    assert "26.0" not in tags and {behind_release(old), crossing_release(old), release_back(old, 2)} <= tags
    table, column, revision = leftover(old)
    assert revision in old.pending([old.tag_revision(behind_release(old))], "gxy")
    assert column in old.revisions[revision].path.read_text() and table != "page"
    assert set(scratch_states.states(old)) == set(scratch_states.states(graph))
    own_tags = r"release tags go from 22\.01 to 24\.1; use one of head, a release tag \(24\.0"
    with pytest.raises(UsageError, match=own_tags):
        resolve_target("25.1", old)  # the sample's example is not this code's


def test_troubleshoot_states_on_the_checkout_give_their_findings(checkout, tmp_path):
    """The states the troubleshoot runbook makes, with the checkout's code, are the problems they name."""
    old = RevisionGraph.load(checkout)
    like = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'like.sqlite'}")
    with ScratchSet(like, tmp_path / "scratch", old, env=checkout) as scratch:
        assert set(inspect_database(scratch.head).alembic_rows) == set(old.heads())
        for name in ("multiple-current", "objects-already-exist"):
            db = scratch.make(name)
            report = diagnose(db, old, checkout, rehearse=name == "objects-already-exist")
            assert scratch_states.states(old)[name].finding in report.codes, report.text()
        table, column, revision = leftover(old)
        assert revision in report.get("upgrade-will-fail").summary, report.text()


def test_run_downgrade_on_the_checkout_uses_its_own_release(checkout, tmp_path):
    """`run downgrade --galaxy-root` failed with "'25.1' is not a target" on a checkout older than 25.1."""
    result = run_cli("run", "downgrade", "--galaxy-root", str(checkout.root), "-o", str(tmp_path / "d.ipynb"))
    assert result.returncode == 0, result.stdout + result.stderr
    target = release_back(RevisionGraph.load(checkout), 2)
    assert f"the downgrade to {target} was only rehearsed (it passed)" in result.stdout


def test_run_create_on_the_checkout_proves_and_leaves_nothing(checkout, tmp_path):
    """`run create --galaxy-root` failed every time ("did not reach <parent>") and left its file behind."""
    before, root = gxy_files(checkout), str(checkout.root)
    result = run_cli("run", "create", "--galaxy-root", root, "-o", str(tmp_path / "c.ipynb"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "proved it on sqlite" in result.stdout and gxy_files(checkout) == before
    # not proved (no such table): removed all the same, so the next run does not stack on it
    failed = run_cli(
        "run", "create", "--galaxy-root", root, "-p", "table", "no_such_table", "-o", str(tmp_path / "f.ipynb")
    )
    assert failed.returncode != 0 and "the round trip failed" in failed.stderr
    assert gxy_files(checkout) == before


def test_a_state_the_code_cannot_make_is_named_not_crashed(graph, tmp_path):
    """23.0's code has no merge revision (and so no multiple-current state): the state says so, and the
    troubleshoot runbook leaves it out instead of failing on it. The graph is the package's, cut at 23.0."""
    from runbooks.code.revisions import release_key

    cut = graph.ancestors([graph.tag_revision("23.0")]) | set(graph.in_order("tsi"))
    tags = {tag: rev for tag, rev in graph.release_tags.items() if release_key(tag) <= release_key("23.0")}
    old = RevisionGraph({rid: graph.revisions[rid] for rid in cut}, tags)
    assert crossing_release(old) is None and behind_release(old) == "22.05"
    state = scratch_states.states(old)["multiple-current"]
    assert not state.available and "no release of this code is below a merge revision" in state.description
    with pytest.raises(UsageError, match="cannot be made with this Galaxy code"):
        scratch_states.make_state("multiple-current", DatabaseUrl.parse(f"sqlite:///{tmp_path / 'x.sqlite'}"), old)
    assert all(s.available for name, s in scratch_states.states(old).items() if name != "multiple-current")


def test_unknown_revision_way_back_leaves_rows_this_code_can_read(tmp_path, sqlite_db):
    """Issue 22, item 6 (a fix text like the others): a database the installed 26.1 code wrote, seen with a
    25.0 checkout, was told `manage_db.sh downgrade <25.0 head>` with the newer code, which keeps fb16d09348db
    (a side branch's row) that 25.0 cannot read. The printed command, run with the newer code, comes back."""
    import re
    import shlex

    from runbooks.tasks.migrate import read_rows
    from runbooks.tasks.status import get_status

    old_env = GalaxyEnv.from_checkout(make_tree("25.0.4", tmp_path / "galaxy"))
    old = RevisionGraph.load(old_env)
    db = sqlite_db("head")
    fix = diagnose(db, old, old_env, rehearse=False).get("unknown-revision").fix
    (ours,) = [c for c in re.findall(r"`([^`]+)`", fix) if " downgrade " in c and "manage_db" not in c]
    words = shlex.split(ours)
    result = run_cli(*words[words.index("downgrade") :], "--yes", "--no-backup")  # with the newer (installed) code
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(read_rows(db)) <= set(old.revisions), read_rows(db)
    assert get_status(db, old, old_env).state == "up-to-date"
