"""The MkDocs build itself: the hooks, the runbook pipeline, its execution and its cache."""
