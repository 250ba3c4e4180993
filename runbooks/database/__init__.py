"""The user's database, without importing Galaxy: URLs, connections, sessions and locks, backups."""
