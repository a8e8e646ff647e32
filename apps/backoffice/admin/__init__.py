"""The back office's admin registrations: challenges (tasks and divisions inline), tasks with their data,
divisions, submissions with the organizers' actions, and the audit log. They live above every layer they
touch, so that each action can rebuild leaderboards and write the audit log."""

from __future__ import annotations

from apps.backoffice.admin import audit, challenges, submissions, tasks

__all__ = ["audit", "challenges", "submissions", "tasks"]
