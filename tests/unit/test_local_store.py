"""The gateway's local store: Idempotency-Key claims, replays, releases, expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from ingest_gateway import local_store
from ingest_gateway.errors import IdempotencyConflict
from ingest_gateway.local_store import AcceptedIngest, LocalStore


def _ingest() -> AcceptedIngest:
    return AcceptedIngest(uuid4(), "org-a", 10, 1, datetime.now(UTC), 3.5)


def test_a_key_is_claimed_once_replayed_after_and_free_again_when_released(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "g.sqlite3")
    other = LocalStore(tmp_path / "g.sqlite3")  # a second gateway on the host
    token = uuid4()
    assert store.claim(token, "k", b"body") is None
    with pytest.raises(IdempotencyConflict, match="still in flight"):
        other.claim(token, "k", b"body")
    with pytest.raises(IdempotencyConflict, match="different body"):
        other.claim(token, "k", b"another")
    ingest = _ingest()
    store.complete(token, "k", 202, {"ingest_id": str(ingest.ingest_id)}, ingest)
    replay = other.claim(token, "k", b"body")
    assert replay is not None
    assert (replay.status_code, replay.body) == (202, {"ingest_id": str(ingest.ingest_id)})
    assert other.accepted(ingest.ingest_id, "org-a") == ingest
    assert other.accepted(ingest.ingest_id, "org-b") is None  # another org's ingest is unknown

    assert store.claim(token, "k2", b"body") is None
    store.release(token, "k2")  # the request failed
    assert other.claim(token, "k2", b"body") is None
    store.close()
    other.close()


def test_keys_and_ingests_expire_after_their_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "g.sqlite3")
    token = uuid4()
    store.claim(token, "old", b"body")
    store.complete(token, "old", 202, {}, _ingest())
    later = time.time() + local_store.WINDOW_SECONDS + 1
    monkeypatch.setattr(local_store.time, "time", lambda: later)
    assert store.claim(token, "old", b"a new body") is None  # expired: free again
    assert store.purge_expired() == 1  # the old accepted ingest
    store.close()


def test_a_claim_its_gateway_never_finished_is_taken_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "g.sqlite3")
    token = uuid4()
    assert store.claim(token, "k", b"body") is None  # and the gateway is SIGKILLed here
    with pytest.raises(IdempotencyConflict, match="still in flight"):
        store.claim(token, "k", b"body")
    later = time.time() + local_store.STALE_CLAIM_SECONDS + 1
    monkeypatch.setattr(local_store.time, "time", lambda: later)
    assert store.claim(token, "k", b"body") is None  # the station's retry goes ahead
    store.close()
