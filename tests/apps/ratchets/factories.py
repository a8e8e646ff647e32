"""Ratchet rows for page, API and service tests, made directly (no evaluator runs): a challenge's column of
two tasks, its rounds, new items with a small PNG each, gold items, and answers."""

from __future__ import annotations

import io
import itertools

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.challenges.models import Challenge, Task
from apps.challenges.services import task_data_file_put
from apps.ratchets.models import Answer, Claim, Item, Ratchet, Round
from apps.submissions.models import Submission

LABELS = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"]
TRAINING_CONFIG = {"labels": LABELS, "max_items": 500, "input": "image", "image_size": 32}
TEST_CONFIG = {"labels": LABELS, "max_items": 50, "input": "image", "image_size": 32}
_keys = itertools.count(1)


def png(text: str = "iv", size: int = 32) -> bytes:
    """A small grey PNG with a few strokes, different for each text."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    for index, char in enumerate(text):
        x = 4 + index * 7 + (ord(char) % 3)
        draw.line([(x, 6), (x + (2 if char == "v" else 0), size - 6)], fill=0, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_ratchet(challenge: Challenge, **settings: object) -> Ratchet:
    """A ratchet over two new tasks of the challenge (Roman numerals, OCR), with no task data but a seed test list."""
    training = Task.objects.create(
        challenge=challenge,
        slug="roman-training",
        title="Roman numerals: the training set",
        evaluator_slug="training-set-creation",
        ml_task=Task.MLTask.OCR,
        config=TRAINING_CONFIG,
    )
    test = Task.objects.create(
        challenge=challenge,
        slug="roman-test",
        title="Roman numerals: fool the models",
        evaluator_slug="adversarial-test-set",
        ml_task=Task.MLTask.OCR,
        config=TEST_CONFIG,
        order=1,
    )
    # The training task's seed test set (kept by the first close); no images: nothing here scores.
    task_data_file_put(task=training, relative_path="test/items.csv", content=ContentFile(b"id,label\nt1,iv\n"))
    return Ratchet.objects.create(
        challenge=challenge, slug="roman", title="Roman numerals", training_task=training, test_task=test, **settings
    )


def make_round(ratchet: Ratchet, number: int = 1, status: str = Round.Status.OPEN) -> Round:
    now = timezone.now()
    return Round.objects.create(
        ratchet=ratchet,
        number=number,
        status=status,
        opened_at=now if status != Round.Status.DRAFT else None,
        closed_at=now if status == Round.Status.CLOSED else None,
        data_ready_at=now,
    )


def make_item(
    round_: Round,
    submission: Submission | None = None,
    *,
    claimed: str = "iv",
    fooled: bool = True,
    gold_label: str = "",
    status: str = Item.Status.PENDING,
) -> Item:
    """A new item (held by `submission`, whose team is then its provenance) or, with `gold_label`, a gold item."""
    number = next(_keys)
    kind = Item.Kind.GOLD if gold_label else Item.Kind.NEW
    key = f"gold:{round_.number}:t{number}" if gold_label else f"new:{number:064x}"
    item = Item(
        ratchet=round_.ratchet,
        round=round_,
        kind=kind,
        key=key,
        claimed_label=claimed,
        predictions={"logreg": "v" if fooled else claimed, "svc": "v" if fooled else claimed},
        fooled=fooled,
        gold_label=gold_label,
        status=status,
        payload_type="image/png",
    )
    item.payload.save(f"{round_.ratchet_id}/factory-{number}.png", ContentFile(png(claimed)), save=False)
    item.save()
    if submission is not None:
        Claim.objects.create(
            item=item, submission=submission, team=submission.team, source=f"images/{number}.png", line=2
        )
    return item


def answer(item: Item, user: User, verdict: str = Answer.Verdict.CORRECT, label: str = "", reason: str = "") -> Answer:
    """An answer stored directly (the service's checks are tested on their own)."""
    return Answer.objects.create(item=item, user=user, verdict=verdict, label=label, reason=reason)
