"""The lint's rules, in catalogue order: what ``runbooks.lint.command`` runs, and what the docs list.

Like papermill's engine registry, an explicit list: a new rule is a module under
``runbooks/lint/rules/`` (``RULE`` and ``check(review)``) added to ``CONTENT_RULES`` here.
"""

from __future__ import annotations

from runbooks.lint.catalogue import Rule
from runbooks.lint.graph_rules import DUPLICATE_REVISION_ID, GRAPH_RULES, NOT_CURRENT_HEAD
from runbooks.lint.rules import (
    downgrade_only_passes,
    foreign_key_locks_table,
    index_locks_table,
    missing_downgrade,
    no_transaction,
    not_a_revision,
    not_null_without_default,
    not_python,
    raw_op_call,
    unbatched_data_change,
)

# Checked while a file is read: a file that fails one of them gets no other finding.
FILE_RULES = (not_python, not_a_revision)

# What a revision's content is checked for (``check(review)``), with no need for the graph.
CONTENT_RULES = (
    missing_downgrade,
    downgrade_only_passes,
    no_transaction,
    raw_op_call,
    index_locks_table,
    foreign_key_locks_table,
    not_null_without_default,
    unbatched_data_change,
)

__all__ = ["CONTENT_RULES", "FILE_RULES", "GRAPH_RULES", "GRAPH_RULE_IDS", "RULES"]

GRAPH_RULE_IDS = tuple(graph_rule.rule.id for graph_rule in GRAPH_RULES)

# Every rule by id, in the order the docs present them.
RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        not_python.RULE,
        not_a_revision.RULE,
        missing_downgrade.RULE,
        downgrade_only_passes.RULE,
        no_transaction.RULE,
        raw_op_call.RULE,
        NOT_CURRENT_HEAD,
        DUPLICATE_REVISION_ID,
        index_locks_table.RULE,
        foreign_key_locks_table.RULE,
        not_null_without_default.RULE,
        unbatched_data_change.RULE,
    )
}
