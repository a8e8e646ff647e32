"""The audit log's table takes its app's name (challenges_auditentry; its rows and index are kept), and the
actions that the services of every layer now record themselves: registrations decided, task weights set,
leaderboards rebuilt on request."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("challenges", "0005_auditentry_from_backoffice"),
        ("backoffice", "0002_auditentry_to_challenges"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
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
                    ("leaderboard-rebuild", "Rebuilt a leaderboard"),
                    ("task-create", "Created a task"),
                    ("task-change", "Changed a task"),
                    ("task-data", "Changed a task's data"),
                    ("task-slice", "Added a discovered slice to the ground truth"),
                    ("task-weight", "Changed a task's weight on the challenge leaderboard"),
                    ("challenge-change", "Changed the challenge"),
                    ("division-change", "Changed a division"),
                    ("participation-approve", "Approved a registration"),
                    ("participation-reject", "Rejected a registration"),
                ],
                max_length=40,
            ),
        ),
        migrations.AlterModelTable(name="auditentry", table=None),
    ]
