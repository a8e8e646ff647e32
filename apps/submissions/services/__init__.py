"""Writes for submissions, split by concern: intake (create + quotas), validation, evaluation, reaping."""
