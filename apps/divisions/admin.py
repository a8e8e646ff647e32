"""Divisions are registered by `apps.backoffice.admin` (on their own and inline in the challenge admin): a change
of a division's kind or tasks rebuilds leaderboards and writes the audit log, which live above this layer."""
