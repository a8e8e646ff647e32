"""Running a participant's algorithm in a bubblewrap sandbox (Django-free; the services in
`apps.submissions.services.verification` decide what to run and record what happened)."""
