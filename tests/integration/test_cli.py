"""The operator commands, run as a user runs them, against the real database."""

from __future__ import annotations

import json

from tests.backends import Backends


def test_tokens_and_users_print_their_secret_last_and_jobs_list_as_json(
    backends: Backends, database_url: str, unique: str
) -> None:
    token = backends.scada("tokens", "create", "--org", unique, "--stations", f"{unique}-a")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip().splitlines()[-1].startswith("scada_")
    user = backends.scada("users", "create", f"{unique}-u", "--org", unique, "--stations", "*")
    assert user.returncode == 0, user.stderr
    assert user.stdout.strip().splitlines()[-1].startswith("scadau_")
    listed = backends.scada("jobs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert isinstance(json.loads(listed.stdout), list)
    missing = backends.scada("jobs", "show", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1
    assert "no such job" in missing.stderr
