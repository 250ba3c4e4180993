"""What Galaxy's migration helpers and Alembic's operations look like in a revision file."""

from __future__ import annotations

UTIL_MODULE = "galaxy.model.migrations.util"

# Helper (and same-named op function) -> positional parameter names. Both accept keywords.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": ("foreign_key_name", "table_name", "referent_table", "local_cols", "remote_cols"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "drop_constraint": ("constraint_name", "table_name"),
}
# Keyword spellings Alembic uses where Galaxy's helpers use another name.
KEYWORD_ALIASES = {
    "foreign_key_name": ("constraint_name",),
    "table_name": ("source_table",),
}
# Batch operations (``with op.batch_alter_table(t) as batch_op``): the table is implicit.
BATCH_SIGNATURES: dict[str, tuple[str, ...]] = {
    "add_column": ("column",),
    "drop_column": ("column_name",),
    "alter_column": ("column_name",),
    "create_index": ("index_name", "columns"),
    "drop_index": ("index_name",),
    "create_foreign_key": ("foreign_key_name", "referent_table", "local_cols", "remote_cols"),
    "create_unique_constraint": ("constraint_name", "columns"),
    "drop_constraint": ("constraint_name",),
}
# op functions that are not statements of their own.
OP_NON_STATEMENTS = {"get_bind", "get_context", "f", "inline_literal", "batch_alter_table", "run_async"}
CONNECTION_NAMES = {"connection", "conn", "bind", "connectable"}
