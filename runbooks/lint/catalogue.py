"""What the lint reports: a ``Finding`` of a ``Rule``, and the tables the lock rules care about.

Each rule lives in its own module under ``runbooks.lint.rules`` (the rules that need the
revision graph in ``runbooks.lint.graph_rules``), with its id, severity, reason and fix
beside its detection; ``runbooks.lint.registry`` lists them in catalogue order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One problem in one file. ``line`` is 1-based (0 when the whole file is meant)."""

    rule: str
    line: int
    message: str
    fix: str
    severity: str  # "error" | "warning" | "info"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """A stable rule id with its severity, title, reason and the fix it publishes."""

    id: str
    severity: str
    title: str
    why: str
    fix: str

    def finding(self, line: int, message: str, fix: str | None = None) -> Finding:
        """A finding of this rule (with the rule's own fix unless a more precise one is given)."""
        return Finding(self.id, line, message, fix or self.fix, self.severity)


# Galaxy tables that grow with every job, dataset, history item, web session or workflow
# invocation: on a production server they hold millions of rows and are written to all the
# time, so a statement that locks one of them for the length of a table scan stalls Galaxy.
BIG_TABLES: dict[str, str] = {
    "job": "one row per job",
    "job_parameter": "several rows per job",
    "job_state_history": "one row per job state change",
    "job_metric_numeric": "several rows per job",
    "job_metric_text": "several rows per job",
    "job_to_input_dataset": "one row per job input",
    "job_to_output_dataset": "one row per job output",
    "job_to_input_dataset_collection": "one row per job collection input",
    "job_to_output_dataset_collection": "one row per job collection output",
    "job_external_output_metadata": "one row per job output",
    "dataset": "one row per dataset",
    "dataset_permissions": "rows per dataset",
    "dataset_source": "one row per fetched dataset",
    "dataset_hash": "rows per dataset",
    "dataset_collection": "one row per collection",
    "dataset_collection_element": "one row per collection element",
    "history": "one row per history",
    "history_audit": "one row per history change",
    "history_dataset_association": "one row per history item",
    "history_dataset_association_history": "one row per history item edit",
    "history_dataset_collection_association": "one row per history collection",
    "implicitly_converted_dataset_association": "one row per converted dataset",
    "library_dataset_dataset_association": "one row per library dataset",
    "metadata_file": "rows per dataset",
    "galaxy_session": "one row per web session, anonymous visitors included",
    "galaxy_session_to_history": "one row per session and history",
    "workflow_invocation": "one row per workflow run",
    "workflow_invocation_step": "one row per workflow run step",
    "workflow_request_step_states": "one row per workflow run step",
    "workflow_request_input_parameters": "one row per workflow run parameter",
    "workflow_request_to_input_dataset": "one row per workflow run input",
    "implicit_collection_jobs_job_association": "one row per mapped-over job",
}
