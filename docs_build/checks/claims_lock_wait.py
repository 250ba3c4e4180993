"""Claims about ``--lock-timeout`` and the forecast: the policy and the stepped plan run as the tool
builds them, the retry read from the PostgreSQL lock-timeout experiment the production page runs
(``docs_build/checks/experiments_production.py``, cached), the forecast's inputs from its code."""

from __future__ import annotations

import inspect

from docs_build.checks.claim_registry import _graph, check
from docs_build.checks.experiments import experiment
from runbooks.paths import PROJECT_ROOT

PG = "postgresql://galaxy@db/galaxy"


@check
def lock_timeout_is_per_session_and_per_revision(seconds=5):
    """``--lock-timeout 5s`` sets the session's ``lock_timeout`` (libpq's PGOPTIONS in Galaxy's child)
    and turns the upgrade into one Galaxy call per revision."""
    from runbooks.database.urls import DatabaseUrl
    from runbooks.galaxy import child
    from runbooks.tasks.lock_wait import policy_from_args, stepped
    from runbooks.tasks.migrate import make_plan

    policy = policy_from_args(f"{seconds}s", None, DatabaseUrl.parse(PG))
    assert policy.setting == f"{seconds * 1000}ms" and policy.retries == 3
    assert "-c lock_timeout=" in inspect.getsource(child)
    graph = _graph()
    rows = (graph.release_tags["25.0"], *graph.heads("tsi"))
    plan = stepped(make_plan(graph, rows, "head", "upgrade"))
    assert [call.revision for call in plan.calls] == list(plan.revisions)  # one call (one transaction) each


@check
def lock_timeout_retries_from_where_it_stopped():
    """A forgotten session holding ``page``: the revisions before the blocked one stay committed, the
    tool reads back and tries again from there, and after the last retry says NOT DONE naming the
    session that holds the lock."""
    from runbooks.tasks import lock_wait

    out = experiment("production-pg-lock-timeout")["timed_out"]["stdout"]
    assert "read back: d4a650f47a3c, b8d5e2f9a1c7; trying again in" in out  # b8d5e2f9a1c7 committed
    assert "NOT DONE: the database did not reach head." in out
    assert "gave up waiting for a lock after 2 tries" in out and "lock held by: pid <pid>" in out
    assert "calls = calls[calls.index(outcome.failed_call) :]" in inspect.getsource(lock_wait.apply_with_lock_timeout)
    test = (PROJECT_ROOT / "tests" / "test_lock_timeout.py").read_text(encoding="utf-8")
    assert "def test_readers_wait_at_most_the_timeout_then_the_retry_reaches_head(" in test


@check
def lock_timeout_is_refused_on_sqlite():
    from runbooks.database.urls import DatabaseUrl
    from runbooks.errors import UsageError
    from runbooks.tasks.lock_wait import policy_from_args

    try:
        policy_from_args("5s", None, DatabaseUrl.parse("sqlite:////tmp/galaxy.sqlite"))
        raise AssertionError("accepted on SQLite")
    except UsageError as error:
        assert "SQLite has no lock queue" in str(error)


@check
def forecast_from_table_sizes_and_the_model():
    """PostgreSQL only; per revision its time and the tables it locks; sizes from ``pg_class``; the
    model file that ``bench/calibrate.py`` writes."""
    from runbooks.cli import main
    from runbooks.tasks import forecast

    assert "if db.is_sqlite or not MODEL.is_file():\n        return None" in inspect.getsource(forecast.forecast_for)
    assert "FROM pg_class" in inspect.getsource(forecast)
    assert forecast.MODEL == PROJECT_ROOT / "runbooks" / "tasks" / "forecast_model.json" and forecast.MODEL.is_file()
    assert "forecast_model.json" in (PROJECT_ROOT / "bench" / "calibrate.py").read_text(encoding="utf-8")
    model = forecast.load_model()
    graph = _graph()
    pending = list(graph.descendants(graph.release_tags["25.0"]))
    predicted = forecast.forecast(pending, {"job": 10**9}, model)
    items = predicted.revisions
    assert items and all(hasattr(item, "locks") and hasattr(item, "seconds") for item in items)
    assert "locks" in predicted.text()
    source = inspect.getsource(main.cmd_change)  # the plan, then the forecast, before any rehearsal
    assert source.index("say(plan_text(") < source.index("say(predicted.text())") < source.index("if args.rehearse:")


def _upgrade_source(revision: str) -> str:
    text = _graph().revisions[revision].path.read_text(encoding="utf-8")
    return text.split("def upgrade", 1)[1].split("def downgrade", 1)[0]


@check
def row_changing_revisions_do_what_the_page_says():
    """The three revisions' upgrade() read as the page describes them, and ``a5c5455b849a`` drops
    ``job.params`` (an ALTER TABLE ... DROP COLUMN: ACCESS EXCLUSIVE on ``job``)."""
    tool_source = _upgrade_source("566b691307a5")
    assert "UPDATE" in tool_source and "source_class" in tool_source and tool_source.count("nullable=False") == 2
    tokens = _upgrade_source("724237cc4cf0")
    assert "oidc_user_authnz_tokens" in tokens and "drop_table" in tokens and "custos_authnz_token" in tokens
    bigint = _upgrade_source("fac9c76612f9")
    assert bigint.count("existing_type=sa.INTEGER(),\n        type_=sa.BIGINT()") == 2
    params = _graph().revisions["a5c5455b849a"].path.read_text(encoding="utf-8")
    assert 'table_name = "job"' in params and 'column_name = "params"' in params
    assert "drop_column(table_name, column_name)" in _upgrade_source("a5c5455b849a")
