"""The two faces' own pieces: the command line, rendering, runbook outcomes and notebook runs."""
