"""The audit log moves from the back office to challenges (the lowest layer that knows a challenge), so that the
services of every layer can write it. State only: the table, its rows and its index stay as they are; 0006
renames the table."""

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTIONS = [
    ("submission-rescore", "Rescored a submission"),
    ("submission-reverify", "Reran a submission's verification"),
    ("task-rescore", "Rescored a whole task"),
    ("submission-disqualify", "Disqualified a submission"),
    ("submission-requalify", "Undid a disqualification"),
    ("submission-baseline", "Marked a submission as a baseline"),
    ("submission-unbaseline", "Unmarked a baseline"),
    ("submission-move-open", "Moved a submission to the open division"),
    ("award-grant", "Granted an award"),
    ("award-revoke", "Revoked an award"),
    ("leaderboard-reveal", "Revealed a leaderboard early"),
    ("task-create", "Created a task"),
    ("task-change", "Changed a task"),
    ("task-data", "Changed a task's data"),
    ("task-slice", "Added a discovered slice to the ground truth"),
    ("challenge-change", "Changed the challenge"),
    ("division-change", "Changed a division"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("challenges", "0004_teams_registration_quotas"),
        ("backoffice", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("actor_name", models.CharField(blank=True, max_length=150)),
                        ("action", models.CharField(choices=ACTIONS, max_length=40)),
                        ("summary", models.TextField(help_text="What happened, in a sentence.")),
                        (
                            "submission_id",
                            models.PositiveBigIntegerField(
                                blank=True, help_text="The submission concerned, if any.", null=True
                            ),
                        ),
                        (
                            "details",
                            models.JSONField(
                                blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "challenge",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="audit_entries",
                                to="challenges.challenge",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "audit entries",
                        "ordering": ["-created_at", "-pk"],
                        "indexes": [models.Index(fields=["challenge", "-created_at"], name="audit_challenge_time_idx")],
                        "db_table": "backoffice_auditentry",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
