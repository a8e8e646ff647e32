"""The back office's admin registrations: challenges (tasks and divisions inline), tasks with their data,
divisions, submissions with the organizers' actions, leaderboards and task weights, and the audit log. They live
above every layer they touch, so that each action can rebuild the leaderboards it affects; the services they
call write the audit log."""

from __future__ import annotations

from apps.backoffice.admin import audit, challenges, leaderboards, submissions, tasks

__all__ = ["audit", "challenges", "leaderboards", "submissions", "tasks"]
