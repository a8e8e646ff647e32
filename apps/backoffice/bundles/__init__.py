"""Challenge bundles: a whole challenge (settings, divisions, tasks, public and hidden data) as one zip, to move
it between installations or keep it under version control.

The zip holds `bundle.yaml` at its root and each task's data files at `tasks/<task slug>/<relative path>`:

```yaml
format: 1
challenge: {slug, title, summary, description, rules, starts_at, ends_at, visibility, registration,
            max_team_size, allowed_email_domains, blocked_email_domains, time_zone}
divisions:
- {slug, kind, name, description, order, tasks: [task slugs]}      # no tasks: every task
tasks:
- {slug, title, ..., config, quotas, concealed_config, sandbox limits, weight,
   files: [{path, role, sha256, size}, ...]}
```

Dates are ISO 8601 with their UTC offset. People never travel in a bundle (no organizers, participants, teams,
submissions or scores): the organizers are named at import. `schema.py` lists every key.
"""

from __future__ import annotations

from apps.backoffice.bundles.importer import challenge_bundle_import
from apps.backoffice.bundles.schema import FORMAT, MANIFEST
from apps.backoffice.bundles.validation import (
    BundlePlan,
    InvalidBundle,
    bundle_manifest_read,
    challenge_bundle_validate,
)
from apps.backoffice.bundles.writer import BundleWriter, challenge_bundle_export

__all__ = [
    "FORMAT",
    "MANIFEST",
    "BundlePlan",
    "BundleWriter",
    "InvalidBundle",
    "bundle_manifest_read",
    "challenge_bundle_export",
    "challenge_bundle_import",
    "challenge_bundle_validate",
]
