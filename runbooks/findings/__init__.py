"""The vocabulary of problems: the finding catalogue and the report that gathers findings."""
