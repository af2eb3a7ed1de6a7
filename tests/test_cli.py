"""The operator commands, run as a user runs them, against the real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.backends import Backends


def _scada(backends: Backends, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SCADA_DATABASE_URL": backends.database_url,
        "SCADA_KAFKA_BOOTSTRAP": backends.kafka_bootstrap,
    }
    return subprocess.run(
        [sys.executable, "-m", "scada", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_tokens_and_users_print_their_secret_last_and_jobs_list_as_json(
    backends: Backends, database_url: str, unique: str
) -> None:
    token = _scada(backends, "tokens", "create", "--org", unique, "--stations", f"{unique}-a")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().splitlines()[-1].startswith("scada_")
    user = _scada(backends, "users", "create", f"{unique}-u", "--org", unique, "--stations", "*")
    assert user.returncode == 0, user.stderr
    assert user.stdout.strip().splitlines()[-1].startswith("scadau_")
    listed = _scada(backends, "jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    missing = _scada(backends, "jobs", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1
    assert "no such job" in missing.stderr
