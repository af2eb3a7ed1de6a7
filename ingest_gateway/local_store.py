"""The gateway's own store: idempotency keys and the ingests it accepted, in SQLite.

The request path must not wait on PostgreSQL (SPEC: ingest depends on Kafka
alone), yet an ``Idempotency-Key`` must survive a gateway restart, and a
station must be able to read the status of an ingest that the stream
processors have not stored yet. Both live here, in one SQLite file under the
gateway's state directory (WAL; a commit is a few tens of microseconds and
survives the process being killed). Gateways on one host share the file;
gateways on several hosts each have their own — a key replayed to another host
publishes again, and the database still stores each reading once (first
write wins), so only the second ingest id differs.

A key is claimed before publishing (a row with no response yet), so two
concurrent requests with one key cannot both publish. Only a 202 is kept; any
failure releases the key so that the client's retry can succeed.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from ingest_gateway.errors import DatabaseUnavailable, IdempotencyConflict

log = logging.getLogger(__name__)

WINDOW_SECONDS = 24 * 3600
"""An ``Idempotency-Key`` is remembered for 24 hours; so is an accepted ingest."""
STALE_CLAIM_SECONDS = 60
"""A claim still without a response after this was left by a gateway that died mid-request
(a request ends within the produce timeout, seconds): the next request takes it over."""
_PURGE_BATCH = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    token_id       TEXT    NOT NULL,
    key            TEXT    NOT NULL,
    request_sha256 BLOB    NOT NULL,
    status_code    INTEGER,            -- NULL while the first request is in flight
    response       BLOB,
    created_at     REAL    NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
CREATE TABLE IF NOT EXISTS accepted_ingests (
    ingest_id        TEXT PRIMARY KEY,
    org_id           TEXT    NOT NULL,
    reading_count    INTEGER NOT NULL,
    message_count    INTEGER NOT NULL,
    accepted_at      TEXT    NOT NULL,
    response_time_ms REAL    NOT NULL,
    created_at       REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS accepted_ingests_created ON accepted_ingests (created_at);
"""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class AcceptedIngest:
    ingest_id: UUID
    org_id: str
    reading_count: int
    message_count: int
    accepted_at: datetime
    response_time_ms: float


class LocalStore:
    """Idempotency keys and accepted ingests of this host's gateways."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Transactions here last microseconds; a second's wait for the lock is plenty.
        self._db = sqlite3.connect(path, timeout=1.0, isolation_level=None)
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":  # some filesystems cannot: readers then wait for writers
            log.warning("the local store at %s runs in %s mode, not WAL", path, mode)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def claim(self, token_id: UUID, key: str, body: bytes) -> StoredResponse | None:
        """Claim ``key``; ``None`` means "go ahead", else the first request's response."""
        if not 1 <= len(key) <= 255:
            raise IdempotencyConflict("Idempotency-Key must be 1 to 255 characters")
        digest = hashlib.sha256(body).digest()
        try:
            row = self._claim(str(token_id), key, digest)
        except sqlite3.Error as exc:  # a full or failing disk: nothing was published yet
            raise DatabaseUnavailable(
                f"the gateway could not record the Idempotency-Key ({exc}); retry",
                retry_after=5.0,
            ) from exc
        if row is None:
            return None
        if bytes(row[0]) != digest:
            raise IdempotencyConflict("this Idempotency-Key was used with a different body")
        if row[1] is None:
            raise IdempotencyConflict("a request with this Idempotency-Key is still in flight")
        return StoredResponse(row[1], orjson.loads(row[2]))

    def _claim(self, token_id: str, key: str, digest: bytes) -> Any:
        """``None`` if claimed now, else the key's row (digest, status, response)."""
        now = time.time()
        with self._transaction():
            # An expired key is free again; so is a claim its gateway never finished.
            self._db.execute(
                "DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND (created_at < ? "
                "OR (status_code IS NULL AND created_at < ?))",
                (token_id, key, now - WINDOW_SECONDS, now - STALE_CLAIM_SECONDS),
            )
            claimed = self._db.execute(
                "INSERT INTO idempotency_keys (token_id, key, request_sha256, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (token_id, key, digest, now),
            ).rowcount
            if claimed:
                return None
            return self._db.execute(
                "SELECT request_sha256, status_code, response FROM idempotency_keys "
                "WHERE token_id = ? AND key = ?",
                (token_id, key),
            ).fetchone()

    def complete(
        self,
        token_id: UUID,
        key: str | None,
        status: int,
        body: dict[str, Any],
        ingest: AcceptedIngest,
    ) -> None:
        """Record the accepted ingest, and the response under ``key`` if there is one."""
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO accepted_ingests (ingest_id, org_id, reading_count, "
                "message_count, accepted_at, response_time_ms, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(ingest.ingest_id),
                    ingest.org_id,
                    ingest.reading_count,
                    ingest.message_count,
                    ingest.accepted_at.isoformat(),
                    ingest.response_time_ms,
                    time.time(),
                ),
            )
            if key is not None:
                self._db.execute(
                    "UPDATE idempotency_keys SET status_code = ?, response = ? "
                    "WHERE token_id = ? AND key = ?",
                    (status, orjson.dumps(body), str(token_id), key),
                )

    def release(self, token_id: UUID, key: str) -> None:
        self._db.execute(
            "DELETE FROM idempotency_keys WHERE token_id = ? AND key = ? AND status_code IS NULL",
            (str(token_id), key),
        )

    def accepted(self, ingest_id: UUID, org_id: str) -> AcceptedIngest | None:
        row = self._db.execute(
            "SELECT reading_count, message_count, accepted_at, response_time_ms "
            "FROM accepted_ingests WHERE ingest_id = ? AND org_id = ?",
            (str(ingest_id), org_id),
        ).fetchone()
        if row is None:
            return None
        return AcceptedIngest(
            ingest_id, org_id, row[0], row[1], datetime.fromisoformat(row[2]), row[3]
        )

    def purge_expired(self) -> int:
        """Delete what is past its 24 hours, all of it (see :meth:`purge_some`)."""
        purged = 0
        while n := self.purge_some():
            purged += n
        return purged

    def purge_some(self) -> int:
        """Delete up to a thousand expired rows of each table, in one short transaction.

        In small batches: one transaction deleting ten minutes of rows would hold the
        write lock of every gateway on the host for as long.
        """
        cutoff = time.time() - WINDOW_SECONDS
        with self._transaction():
            purged = 0
            for table in ("idempotency_keys", "accepted_ingests"):
                purged += self._db.execute(
                    f"DELETE FROM {table} WHERE rowid IN "
                    f"(SELECT rowid FROM {table} WHERE created_at < ? LIMIT {_PURGE_BATCH})",
                    (cutoff,),
                ).rowcount
        return int(purged)

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error): one writer at a time."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                if self._db.in_transaction:  # else every later BEGIN would fail too
                    self._db.execute("ROLLBACK")
                raise
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
