"""The audit log moved to challenges (challenges 0005 took over the model and its table). State only for the
model; the content type follows it, so that permissions granted on the audit log keep their meaning."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _move_content_type(apps: StateApps, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    # On a fresh database the content types are created after every migration: nothing to move then.
    if not content_type.objects.filter(app_label=target, model="auditentry").exists():
        content_type.objects.filter(app_label=source, model="auditentry").update(app_label=target)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move_content_type(apps, "backoffice", "challenges")


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _move_content_type(apps, "challenges", "backoffice")


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_initial"),
        ("challenges", "0005_auditentry_from_backoffice"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditEntry")]),
        migrations.RunPython(forwards, backwards),
    ]
