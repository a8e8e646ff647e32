"""Turn models and selector results into the plain shapes the output serializers describe."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework.request import Request

from apps.accounts.models import Team
from apps.challenges.evaluators import task_evaluator, task_format_notes, task_metric_specs, task_primary_metric
from apps.challenges.models import Challenge, Participation, Task, TaskDataFile
from apps.divisions.models import Division
from apps.leaderboards.selectors import BenchmarkMatrix, metric_spec_data
from apps.submissions.models import Submission
from apps.submissions.selectors import submission_status
from apps.submissions.services.quotas import QuotaStatus


def team_data(team: Team) -> dict[str, Any]:
    members = sorted(team.memberships.values_list("user__username", flat=True))
    return {"name": team.name, "members": members, "is_personal": team.personal_owner_id is not None}


def participation_data(participation: Participation | None) -> dict[str, Any]:
    if participation is None:
        return {"registered": False, "status": None, "team": None, "accepted_rules_at": None}
    return {
        "registered": True,
        "status": participation.status,
        "team": team_data(participation.team),
        "accepted_rules_at": participation.accepted_rules_at,
    }


def challenge_data(challenge: Challenge, request: Request) -> dict[str, Any]:
    return {
        "slug": challenge.slug,
        "title": challenge.title,
        "summary": challenge.summary,
        "phase": challenge.phase,
        "starts_at": challenge.starts_at,
        "ends_at": challenge.ends_at,
        "visibility": challenge.visibility,
        "registration": challenge.registration,
        "web_url": request.build_absolute_uri(reverse("challenges:detail", args=[challenge.slug])),
    }


def division_data(division: Division) -> dict[str, Any]:
    return {
        "slug": division.slug,
        "name": division.name,
        "kind": division.kind,
        "description": division.description,
        "requires_code": division.requires_code,
    }


def task_summary_data(task: Task) -> dict[str, Any]:
    return {
        "slug": task.slug,
        "title": task.title,
        "benchmark": task.evaluator_slug,
        "ml_task": task.ml_task,
        "is_published": task.is_published,
    }


def data_file_data(data_file: TaskDataFile, task: Task, request: Request) -> dict[str, Any]:
    url = reverse("api:task-file", args=[task.challenge.slug, task.slug, data_file.pk])
    return {
        "id": data_file.pk,
        "path": data_file.relative_path,
        "size": data_file.size,
        "sha256": data_file.sha256,
        "download_url": request.build_absolute_uri(url),
    }


def task_detail_data(
    task: Task, divisions: list[Division], files: list[TaskDataFile] | None, request: Request
) -> dict[str, Any]:
    """`files` is None when the user may not download them (the task page hides them then too)."""
    evaluator = task_evaluator(task)
    return {
        **task_summary_data(task),
        "description": task.description,
        "ml_task_label": task.get_ml_task_display(),
        "benchmark_info": {
            "slug": evaluator.slug,
            "title": evaluator.title,
            "version": evaluator.version,
            "submission_format": evaluator.submission_format,
            "submission_is_directory": evaluator.submission_is_directory,
            "format_notes": task_format_notes(task),
        },
        "primary_metric": metric_spec_data(task_primary_metric(task)),
        "metrics": [metric_spec_data(spec) for spec in task_metric_specs(task)],
        "quota": {
            "per_day": task.quota_per_day,
            "total": task.quota_total,
            "window": task.quota_window,
            "concurrent": task.quota_concurrent,
            "counts_rejected": task.quota_counts_rejected,
            "counts_failed": task.quota_counts_failed,
        },
        "max_upload_bytes": task.max_upload_bytes,
        "ranking_rule": task.ranking_rule,
        "divisions": [division_data(division) for division in divisions],
        "can_download": files is not None,
        "files": [data_file_data(data_file, task, request) for data_file in files or []],
    }


def quota_data(status: QuotaStatus) -> dict[str, Any]:
    return {
        "per_day": status.per_day,
        "used_today": status.used_today,
        "total": status.total,
        "used_total": status.used_total,
        "remaining_today": status.remaining_today,
        "remaining_total": status.remaining_total,
        "remaining": status.remaining,
        "resets_at": status.resets_at,
        "window": status.window,
        "time_zone": status.time_zone,
        "day_resets_at": status.day_resets_at,
        "concurrent": status.concurrent,
        "in_flight": status.in_flight,
        "remaining_concurrent": status.remaining_concurrent,
        "limits": [
            {
                "kind": limit.kind,
                "name": limit.label,
                "limit": limit.limit,
                "used": limit.used,
                "remaining": limit.remaining,
                "resets_at": limit.resets_at,
            }
            for limit in status.limits
        ],
    }


def submission_data(submission: Submission, request: Request) -> dict[str, Any]:
    """The submission with its live status (`submission_status`, as the submission page polls it)."""
    live = submission_status(submission=submission, viewer=request.user)
    return {
        **{key: live[key] for key in ("id", "status", "status_label", "terminal", "progress", "message")},
        **{key: live[key] for key in ("progress_message", "attempts", "metrics", "stages")},
        "challenge": submission.task.challenge.slug,
        "task": submission.task.slug,
        "division": submission.division.slug,
        "team": submission.team.name,
        "submitted_by": submission.submitted_by.get_username(),
        "artifact_name": submission.artifact_name,
        "artifact_size": submission.artifact_size,
        "artifact_sha256": submission.artifact_sha256,
        "method_description": submission.method_description,
        "code_url": submission.code_url,
        "created_at": submission.created_at,
        "finished_at": submission.finished_at,
        "is_baseline": submission.is_baseline,
        "is_withdrawn": submission.is_withdrawn,
        "is_disqualified": submission.is_disqualified,
        "is_selected_final": submission.is_selected_final,
        "web_url": request.build_absolute_uri(reverse("submissions:detail", args=[submission.pk])),
    }


def matrix_data(matrix: BenchmarkMatrix) -> dict[str, Any]:
    rows = []
    for slug, title, cells in matrix.rows:
        row_cells = []
        for (ml_task, _), cell in zip(matrix.columns, cells, strict=True):
            tasks = [
                {
                    "challenge": entry["task"].challenge.slug,
                    "task": entry["task"].slug,
                    "title": entry["task"].title,
                    "leader": entry["leader"],
                    "submissions": entry["submissions"],
                }
                for entry in cell.tasks
            ]
            row_cells.append({"ml_task": ml_task, "tasks": tasks})
        rows.append({"benchmark": slug, "title": title, "cells": row_cells})
    return {"columns": [{"ml_task": value, "label": label} for value, label in matrix.columns], "rows": rows}
