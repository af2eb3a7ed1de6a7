"""The embedded local stack: process management, idempotent ``up``, ``status``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backends import Backends
from tooling.local_stack.kafka import KafkaNode
from tooling.local_stack.processes import ManagedProcess


def _sleeper(tmp_path: Path, marker: str) -> ManagedProcess:
    return ManagedProcess("sleeper", tmp_path / "sleeper.pid", tmp_path / "sleeper.log", marker)


def test_a_started_process_is_found_by_pid_and_marker_and_stopped(tmp_path: Path) -> None:
    process = _sleeper(tmp_path, "3600.5")
    pid = process.start(["sleep", "3600.5"])
    assert process.pid() == pid
    # A pid file pointing at someone else's process (wrong marker) is not ours.
    assert _sleeper(tmp_path, "another-marker").pid() is None
    assert process.stop(timeout=5) is True
    assert process.pid() is None
    assert not process.pidfile.exists()
    assert process.stop() is False


def test_a_process_ignoring_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    process = _sleeper(tmp_path, "trap-sleeper")
    # No exec: the shell itself must stay the process, so its command line keeps the marker.
    process.start(["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done", "trap-sleeper"])
    started = time.monotonic()
    assert process.stop(sig=signal.SIGTERM, timeout=1.0)
    assert time.monotonic() - started < 5
    assert process.pid() is None


def test_kafka_nodes_of_a_three_node_cluster_use_distinct_ports_and_dirs(tmp_path: Path) -> None:
    nodes = [KafkaNode(tmp_path, i, 3) for i in (1, 2, 3)]
    assert [n.port for n in nodes] == [9092, 9192, 9292]
    assert len({n.directory for n in nodes}) == 3
    assert (
        len({n.process.pidfile for n in nodes} | {KafkaNode(tmp_path, 1, 1).process.pidfile}) == 4
    )
    props = nodes[1].properties()
    assert "controller.quorum.voters=1@127.0.0.1:19092,2@127.0.0.1:19192,3@127.0.0.1:19292" in props
    assert "offsets.topic.replication.factor=3" in props


@pytest.fixture
def local_only(backends: Backends) -> None:
    if backends.kind != "local":
        pytest.skip("exercises the embedded stack; the suite runs against other servers")


def _scada(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tooling", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.usefixtures("local_only")
def test_second_up_starts_nothing_and_is_quick() -> None:
    started = time.monotonic()
    result = _scada("stack", "up")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "everything was already running" in result.stderr
    assert elapsed < 15


def _status(**env: str) -> dict[str, dict[str, object]]:
    result = _scada("stack", "status", "--json", **env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


@pytest.mark.usefixtures("local_only")
def test_status_reports_the_servers_running_and_healthy() -> None:
    rows = _status()
    for name in ("kafka-1", "timescaledb"):
        assert rows[name]["state"] == "running", rows[name]
        pid = rows[name]["pid"]
        assert isinstance(pid, int)
        assert pid > 0
        assert str(rows[name]["health"]).startswith("ok"), rows[name]
    # Services appear only if `stack up --services` ever started them in this home (an
    # operator's `make up`); whatever their state, it must agree with their health.
    for row in rows.values():
        if row["state"] == "stopped":
            assert (row["pid"], row["health"]) == (None, "-"), row
        else:
            assert str(row["health"]).startswith("ok"), row


def test_status_reports_a_service_that_died_as_stopped(tmp_path: Path) -> None:
    """A crashed service (its pid file left behind) is shown stopped, not silently left out."""
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True)
    dead = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    (home / "run" / "gateway.pid").write_text(dead.stdout)
    rows = _status(SCADA_HOME=str(home))
    assert rows["gateway"] == {**rows["gateway"], "state": "stopped", "pid": None, "health": "-"}
    assert "historical-api" not in rows  # never started here: not listed
    assert _scada("stack", "down", SCADA_HOME=str(home)).returncode == 0
    assert not (home / "run" / "gateway.pid").exists()


def test_kafka_cluster_ids_never_start_with_a_dash() -> None:
    # StorageTool's parser takes "-t -abc" for a missing value: one id in 64 did that.
    from tooling.local_stack.kafka import _random_cluster_id

    ids = [_random_cluster_id() for _ in range(2000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 for i in ids)


def test_a_started_process_is_not_taken_for_dead_while_its_command_line_changes(
    tmp_path: Path,
) -> None:
    """``has_exited`` asks the kernel, not the marker (mid-exec a command line is another's).

    The start check once read a TimescaleDB that was starting (``unshare`` → ``sh`` →
    ``chroot`` → ``postgres``) as exited, because its marker was not yet in view.
    """
    process = ManagedProcess(
        name="sleeper",
        pidfile=tmp_path / "sleeper.pid",
        logfile=tmp_path / "sleeper.log",
        marker="a marker this command line never shows",
    )
    process.start(["sleep", "30"])
    try:
        assert process.pid() is None  # by the marker: not ours (yet)
        assert not process.has_exited()  # by the kernel: running
    finally:
        os.kill(int(process.pidfile.read_text()), signal.SIGKILL)

    def exited() -> bool:
        return process.has_exited()

    deadline = time.monotonic() + 10
    while not exited() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exited()
