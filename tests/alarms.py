"""The alarm evaluator as a real process, for the tests that run it (and kill it)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.pipeline import wait_for


def start_evaluator(
    kafka_bootstrap: str, database_url: str, namespace: str, log: Path
) -> subprocess.Popen[bytes]:
    """``python -m alarm_evaluator`` on the test's topics, checking silence every second."""
    env = {
        **os.environ,
        "SCADA_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "SCADA_DATABASE_URL": database_url,
        "SCADA_TOPIC_NAMESPACE": namespace,
        "SCADA_METRICS_PORT": "0",
        "SCADA_SILENCE_CHECK_SECONDS": "1",
        "SCADA_EVALUATOR_LOGLEVEL": os.environ.get("SCADA_EVALUATOR_LOGLEVEL", "INFO"),
    }
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "alarm_evaluator"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    finally:
        out.close()


async def evaluating(process: subprocess.Popen[bytes], log: Path, *, since: int = 0) -> None:
    """Wait until the evaluator has its rules and its partitions (its log says both)."""

    async def ready() -> bool:
        text = (await asyncio.to_thread(log.read_text, errors="replace"))[since:]
        if process.poll() is not None:
            raise AssertionError(f"the evaluator exited {process.returncode}:\n{text}")
        return "rules loaded" in text and "Ready" in text

    await wait_for(ready, timeout=90, interval=0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
