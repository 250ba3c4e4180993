"""The doctor: every known migration problem, diagnosed on the user's own database."""

from runbooks.doctor.diagnosis import diagnose

__all__ = ["diagnose"]
