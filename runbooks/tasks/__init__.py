"""The tasks: each does one job on a database with the layers below (code, database, galaxy, lint, findings)."""
