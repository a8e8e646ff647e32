"""The back office's admin registrations: challenges (tasks and divisions inline), tasks with their data,
divisions, submissions with the organizers' actions, leaderboards and task weights, the audit log, ratchets and
their rounds, and the workers' heartbeats (read-only). They live above every layer they touch, so that each
action can rebuild the leaderboards it affects; the services they call write the audit log."""

from __future__ import annotations

from apps.backoffice.admin import audit, challenges, leaderboards, ratchets, submissions, tasks, workers

__all__ = ["audit", "challenges", "leaderboards", "ratchets", "submissions", "tasks", "workers"]
