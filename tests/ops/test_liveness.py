"""A worker's own verdict on whether it consumes (dataperf_site/liveness.py, `stall_reason`): the consumer loop
turns, no received message waits with a pool process free, and no backlog sits in the broker while it takes
nothing. Pure: each case is an observation and the reason it gives."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from dataperf_site.liveness import Heartbeat, Observation, stall_reason, write_heartbeat_file

STALL = 30.0
HEALTHY = Observation(
    now=1000.0, loop_at=999.0, pool_size=2, active=0, waiting_since=None, backlog_since=None, received_at=990.0
)


def _seen(**changes: float | int | None) -> Observation:
    return dataclasses.replace(HEALTHY, **changes)  # type: ignore[arg-type]  # the fields of Observation


def test_a_worker_whose_loop_turns_and_that_has_nothing_waiting_consumes() -> None:
    assert stall_reason(HEALTHY, stall_after=STALL) is None


def test_a_loop_that_has_not_turned_for_longer_than_the_bound_is_a_stall() -> None:
    assert stall_reason(_seen(loop_at=960.0), stall_after=STALL) == "its consumer loop has not turned for 40 s"


def test_a_loop_silent_for_exactly_the_bound_is_not_yet_a_stall() -> None:
    assert stall_reason(_seen(loop_at=970.0), stall_after=STALL) is None


def test_a_received_message_that_has_not_started_with_a_free_pool_process_is_a_stall() -> None:
    reason = stall_reason(_seen(waiting_since=950.0, active=1), stall_after=STALL)
    assert reason == "a message received 50 s ago has not started, with 1 of 2 pool processes free"


def test_a_received_message_waiting_briefly_is_not_a_stall() -> None:
    assert stall_reason(_seen(waiting_since=980.0), stall_after=STALL) is None


def test_messages_waiting_while_the_whole_pool_is_busy_are_not_a_stall() -> None:
    """Long evaluations keep every pool process: the messages behind them wait, rightly."""
    busy = _seen(active=2, waiting_since=100.0, backlog_since=100.0, received_at=100.0)
    assert stall_reason(busy, stall_after=STALL) is None


def test_a_backlog_in_the_broker_that_it_takes_none_of_is_a_stall() -> None:
    reason = stall_reason(_seen(backlog_since=900.0, received_at=800.0), stall_after=STALL)
    assert reason == "messages have waited in the broker for 100 s and it took none, with 2 of 2 pool processes free"


def test_a_backlog_is_not_a_stall_while_the_worker_keeps_taking_messages() -> None:
    """A long queue drained steadily: it took one lately."""
    assert stall_reason(_seen(backlog_since=900.0, received_at=995.0), stall_after=STALL) is None


def test_a_young_backlog_is_not_a_stall() -> None:
    assert stall_reason(_seen(backlog_since=980.0, received_at=800.0), stall_after=STALL) is None


def test_a_silent_loop_is_named_before_any_other_reason() -> None:
    everything = _seen(loop_at=900.0, waiting_since=900.0, backlog_since=900.0, received_at=900.0)
    reason = stall_reason(everything, stall_after=STALL)
    assert reason is not None and reason.startswith("its consumer loop has not turned")


@pytest.mark.parametrize("reason", [None, "its consumer loop has not turned for 40 s"])
def test_the_heartbeat_file_holds_one_whole_beat(tmp_path: Path, reason: str | None) -> None:
    path = tmp_path / "worker.json"
    before = time.time()
    write_heartbeat_file(path, reason=reason, consuming_at=123.5)
    beat = json.loads(path.read_text())
    assert beat["consuming_at"] == 123.5 and beat["reason"] == reason
    assert before <= beat["at"] <= time.time()
    assert [p.name for p in tmp_path.iterdir()] == ["worker.json"]  # the partial file was moved into place


def test_the_first_beat_comes_as_the_consumer_starts_not_one_interval_later(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that a worker stopped right after its start is replaced within the stall bound, not the start timeout."""
    settings.WORKER_HEARTBEAT_SECONDS = 3600
    beaten = threading.Event()
    monkeypatch.setattr(Heartbeat, "beat", lambda self: beaten.set())

    Heartbeat(consumer=None).start()

    assert beaten.wait(timeout=5), "no beat within 5 s of the start (the interval is an hour)"
