"""A task's split seed is never given to participants: with the units' ids it would give the private part away.
The fraction is part of the rules and stays visible."""

from __future__ import annotations

import io
import zipfile

import yaml
from django.test import Client
from django.urls import reverse

from apps.submissions.services.algorithm import sandbox_inputs
from evaluators.taskdir import TASK_FILE
from tests.api.conftest import World

SECRET_SEED = 987654321


def _with_split(world: World) -> None:
    world.task.config = {**world.task.config, "private_fraction": 0.5, "split_seed": SECRET_SEED}
    world.task.save(update_fields=["config"])


def test_the_api_gives_the_fraction_and_not_the_seed(world: World) -> None:
    _with_split(world)

    response = world.client("participant_a").get(
        f"/api/v1/challenges/{world.challenge.slug}/tasks/{world.task.slug}/files/"
    )

    assert response.status_code == 200
    assert response.json()["config"]["private_fraction"] == 0.5
    assert response.json()["config"]["split_seed"] is None
    assert str(SECRET_SEED) not in response.content.decode()


def test_the_downloaded_task_yaml_has_no_seed(world: World) -> None:
    _with_split(world)
    client = Client()
    client.force_login(world.user("participant_a"))

    response = client.get(reverse("challenges:task_data_zip", args=[world.challenge.slug, world.task.slug]))

    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]  # a streaming response here
    archive = zipfile.ZipFile(io.BytesIO(body))
    document = yaml.safe_load(archive.read(f"{world.task.slug}/task.yaml"))
    assert document["config"]["private_fraction"] == 0.5
    assert document["config"]["split_seed"] is None


def test_the_sandbox_inputs_have_no_seed(world: World) -> None:
    _with_split(world)

    inputs = sandbox_inputs(world.task, concealed=False)

    text = (inputs / TASK_FILE).read_text(encoding="utf-8")
    assert yaml.safe_load(text)["config"]["split_seed"] is None
    assert str(SECRET_SEED) not in text
