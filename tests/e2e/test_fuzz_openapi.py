"""Generated hostile requests (Schemathesis) against both OpenAPI documents.

Both apps run in this process over ASGI, against the real Kafka and a migrated
TimescaleDB database of this module's own, each with a real token (a ``*`` station
token for the gateway, a ``*`` user for the historical API). Schemathesis starts
an app's lifespan on its first request and ends it when the test ends.

Every documented operation gets the examples, coverage and fuzzing phases with
positive and negative inputs, unsupported methods and missing credentials,
from a fixed seed (derandomized, no example database): the same requests on
every run. The checks: no 5xx, and each response's status code, content type,
headers and body as documented. The documents fuzzed are the ones the apps
serve (``test_each_app_serves_the_fuzzed_document``).

``SCADA_FUZZ_EXAMPLES`` is the number of fuzzing examples per operation (10 here;
``make fuzz`` runs 500). ``ANSWERED`` lists status codes the first runs found
undocumented (each is documented now, and a test keeps it so).

The schemas are loaded from the apps' ``OPENAPI`` dicts rather than through
``schemathesis.pytest.from_fixture``: that loader sets ``Function._nodeid``,
which pytest 9.2 no longer has.
"""

from __future__ import annotations

import os
import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import schemathesis
from starlette.applications import Starlette

from base.storage.database import prepare_database
from historical_service.app import create_app as create_historical_app
from historical_service.openapi import OPENAPI as HISTORICAL_OPENAPI
from ingest_gateway.app import create_app as create_gateway_app
from ingest_gateway.openapi import OPENAPI as GATEWAY_OPENAPI
from ingest_gateway.settings import GatewaySettings
from tests.backends import Backends
from tests.history import historical_settings, new_user
from tests.pipeline import make_token

pytestmark = pytest.mark.filterwarnings(
    # Schemathesis' negative-mode strategies draw from `random` (Hypothesis seeds it per
    # example, so runs stay repeatable); newer Hypothesis releases deprecate that.
    "ignore:Do not use the `random` module inside strategies"
    ":hypothesis.errors.HypothesisDeprecationWarning",
)

EXAMPLES = int(os.environ.get("SCADA_FUZZ_EXAMPLES", "10"))
SEED = 20261123
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
]


def fuzz_config(*, operations: list[dict[str, Any]] | None = None) -> Any:
    """Deterministic, bounded generation; only the checks this file is about."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "request-timeout": 30,
            "max-stream-events": 1,
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "operations": operations or [],
        }
    )


# The documents as the apps serve them (``test_*_serves_the_fuzzed_document`` checks).
gateway = schemathesis.openapi.from_dict(GATEWAY_OPENAPI, config=fuzz_config())
historical = schemathesis.openapi.from_dict(
    HISTORICAL_OPENAPI,
    # The event streams send only comments until one of the caller's jobs moves (or an
    # alarm of theirs): cut them after a second rather than at the request timeout.
    config=fuzz_config(
        operations=[
            {"include-path": "/v1/events", "request-timeout": 1},
            {"include-path": "/v1/alarms/stream", "request-timeout": 1},
        ]
    ),
)
TOKENS: dict[str, str] = {}
"""The real token of each app under test, set by its fixture."""
PENDING = "token-of-the-app-under-test"
"""Stands for the token in the coverage phase's cases, which are built at collection."""


@gateway.auth(refresh_interval=None)
class GatewayToken:
    """The real token on every case but those whose Authorization is the hostile input."""

    app = "gateway"

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        return TOKENS.get(self.app, PENDING)

    def set(self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@historical.auth(refresh_interval=None)
class HistoricalToken(GatewayToken):
    app = "historical"


ANSWERED = [
    # (app, operation, status, why): answers the first fuzzing found undocumented.
    ("gateway", "GET /v1/ingests/{ingest_id}", 401, "no token"),
    ("historical", "GET /v1/historical-jobs", 401, "no token"),
    ("historical", "GET /v1/historical-jobs/{job_id}", 401, "no token"),
    ("historical", "DELETE /v1/historical-jobs/{job_id}", 401, "no token"),
    ("historical", "GET /v1/historical-jobs/{job_id}/result", 401, "no token"),
    ("historical", "GET /v1/historical-jobs/{job_id}/result", 404, "not the caller's job"),
    ("historical", "GET /v1/events", 401, "no token"),
    ("historical", "GET /v1/stations/{station_id}/live", 401, "no token"),
]
"""``test_each_status_code_answered_is_documented`` checks each is in the document."""


GRANTED_STATION = "fuzz-station"
"""Registered to the historical user's organisation (the user is granted ``*``)."""


def steer_job_request(case: schemathesis.Case) -> None:
    """Half the valid job requests name a granted station and a range within bounds.

    The document cannot say that a range is 1970..2200 with ``end`` after ``start``,
    or which stations a user may read, so generated requests stop at those checks
    (422, 403); these go on to the user's limits, the jobs table and Kafka.
    """
    meta = case.meta
    if (
        case.operation.label != "POST /v1/historical-jobs"
        or meta is None
        or meta.generation.mode is not schemathesis.GenerationMode.POSITIVE
        or not isinstance(case.body, dict)
        or zlib.crc32(repr(case.body).encode()) % 2
    ):
        return
    case.body = {
        **case.body,
        "stations": [GRANTED_STATION],
        "start": "2026-11-01T00:00:00+07:00",
        "end": "2026-11-02T00:00:00Z",
    }


def call_and_validate(case: schemathesis.Case, app: Starlette, token: str) -> None:
    if case.headers and case.headers.get("Authorization") == f"Bearer {PENDING}":
        case.headers["Authorization"] = f"Bearer {token}"
    steer_job_request(case)
    case.call_and_validate(app=app)


@pytest.fixture(scope="module")
async def own_database(backends: Backends, _test_names: set[str]) -> AsyncIterator[str]:
    """A migrated database of this module's own: what the fuzzer registers goes with it."""
    name = f"t{uuid.uuid4().hex[:12]}"
    _test_names.add(name)
    base, _, _ = backends.database_url.rpartition("/")
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await prepare_database(f"{base}/{name}")
        yield f"{base}/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def namespace(_test_names: set[str]) -> str:
    name = f"t{uuid.uuid4().hex[:12]}"
    _test_names.add(name)
    return name


@pytest.fixture(scope="module")
async def gateway_app(
    backends: Backends, own_database: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Starlette]:
    settings = GatewaySettings(
        kafka_bootstrap=backends.kafka_bootstrap,
        database_url=own_database,
        topic_namespace=namespace,
        state_dir=tmp_path_factory.mktemp("gateway"),
        produce_timeout_seconds=5.0,
    )
    # '*': the token may write any station, registering it (in this module's database).
    TOKENS["gateway"] = await make_token(own_database, "org-fuzz", ["*"])
    yield create_gateway_app(settings)
    del TOKENS["gateway"]


@pytest.fixture(scope="module")
async def historical_app(
    backends: Backends, own_database: str, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Starlette]:
    settings = historical_settings(
        backends.kafka_bootstrap, own_database, namespace, tmp_path_factory.mktemp("results")
    )
    await make_token(own_database, "org", [GRANTED_STATION])
    TOKENS["historical"] = (await new_user(own_database, ["*"]))[1]
    yield create_historical_app(settings)
    del TOKENS["historical"]


@gateway.parametrize()
def test_gateway_answers_hostile_requests_as_documented(
    case: schemathesis.Case, gateway_app: Starlette
) -> None:
    call_and_validate(case, gateway_app, TOKENS["gateway"])


@historical.parametrize()
def test_historical_api_answers_hostile_requests_as_documented(
    case: schemathesis.Case, historical_app: Starlette
) -> None:
    call_and_validate(case, historical_app, TOKENS["historical"])


@pytest.mark.parametrize(
    ("app_fixture", "document"),
    [("gateway_app", GATEWAY_OPENAPI), ("historical_app", HISTORICAL_OPENAPI)],
)
async def test_each_app_serves_the_fuzzed_document(
    request: pytest.FixtureRequest, app_fixture: str, document: dict[str, Any]
) -> None:
    app = request.getfixturevalue(app_fixture)
    transport = httpx.ASGITransport(app=app)  # /openapi.json needs no lifespan
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == document


DOCUMENTS = {"gateway": GATEWAY_OPENAPI, "historical": HISTORICAL_OPENAPI}
SOME_ID = "3f2b8c1e-7d4a-4e5b-9c6d-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    ("app_name", "label", "status"),
    [
        pytest.param(app_name, label, status, id=f"{label} {status} ({why})")
        for app_name, label, status, why in ANSWERED
    ],
)
async def test_each_status_code_answered_is_documented(
    request: pytest.FixtureRequest, app_name: str, label: str, status: int
) -> None:
    """The minimal request that gets ``status``; its status must be in the document."""
    app = request.getfixturevalue(f"{app_name}_app")
    method, template = label.split(" ", 1)
    path = template.format(ingest_id=SOME_ID, job_id=SOME_ID, station_id="st-1")
    headers = {} if status == 401 else {"authorization": f"Bearer {TOKENS[app_name]}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app") as client,
    ):
        response = await client.request(method, path, headers=headers)
    documented = DOCUMENTS[app_name]["paths"][template][method.lower()]["responses"]
    assert str(response.status_code) in documented, (response.status_code, response.text)
