"""Galaxy's own code, run for real in a worker process (never imported by the CLI itself)."""
