"""Databases in named broken states and lock holders, for tests, the troubleshoot runbook and bench."""
