"""The monitoring stack, live: the shipped Prometheus and Alertmanager configuration on
real processes, every target scraped, and an alert that fires reaching the alert log.

The test runs its own Prometheus, Alertmanager, exporters and alert log (the local
stack's monitors, under the test's home, on free ports; the alert log on the port
deploy/alertmanager/alertmanager.yml notifies). It scrapes a stream processor of
its own, SIGKILLs it, and waits for ``ProcessDown`` to travel rule → Alertmanager →
webhook, as it would for an operator.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, expect

from historical_service.settings import HistoricalSettings
from historical_service.users import OPERATOR
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests.backends import Backends
from tests.history import free_port, historical_settings, new_user, running_historical
from tests.monitoring import Monitoring, running_monitoring
from tests.pipeline import (
    make_token,
    readings,
    running_gateway,
    running_sink,
    start_processor,
    wait_for,
)
from tooling.grafana.dashboards import DASHBOARDS
from tooling.local_stack.kafka import jmx_address
from tooling.local_stack.monitoring import MonitoringSettings
from tooling.simulator.client import Poster, live


@pytest.fixture
async def monitoring(
    backends: Backends,
    database_url: str,
    processor_settings: ProcessorSettings,
    tmp_path: Path,
) -> AsyncIterator[Monitoring]:
    async with running_monitoring(
        tmp_path,
        database_url,
        kafka_bootstrap=backends.kafka_bootstrap,
        lag_groups=[processor_settings.consumer_group],
        topic_namespace=processor_settings.topic_namespace,
    ) as monitoring:
        if backends.kind == "local":  # the stack's broker carries the JMX agent
            base_port = MonitoringSettings().jmx_exporter_base_port
            monitoring.scrape({"kafka": [jmx_address(base_port, 1)]})
        yield monitoring


async def test_every_target_is_scraped_and_reports_its_series(monitoring: Monitoring) -> None:
    expected = json_jobs(monitoring.targets)

    async def all_up() -> list[dict[str, Any]] | None:
        up = await monitoring.query("up")
        scraped = {s["metric"]["job"] for s in up if s["value"][1] == "1"}
        return up if scraped == expected else None

    up = await wait_for(all_up, timeout=90, interval=1)
    jobs = {s["metric"]["job"] for s in up}
    assert {"prometheus", "alertmanager", "node", "postgres", "kafka-lag"} <= jobs
    assert (await monitoring.query("scada_lag_exporter_kafka_up"))[0]["value"][1] == "1"
    assert (await monitoring.query("pg_up"))[0]["value"][1] == "1"
    assert await monitoring.query("node_filesystem_avail_bytes")
    if "kafka" in jobs:
        controllers = await monitoring.query(
            "sum(kafka_controller_kafkacontroller_activecontrollercount)"
        )
        assert controllers[0]["value"][1] == "1"
        assert await monitoring.query("kafka_server_replicamanager_underreplicatedpartitions")
    rules = await _rules(monitoring.prometheus)
    shipped = {"scada-ingest", "scada-stream-processors", "scada-processes", "scada-kafka"}
    assert shipped <= rules


def json_jobs(targets: Path) -> set[str]:
    """The jobs the fixture gave targets to (each file names a job of prometheus.yml)."""
    return {p.stem for p in targets.glob("*.json") if json.loads(p.read_text())[0]["targets"]}


async def _rules(prometheus: str) -> set[str]:
    async with httpx.AsyncClient(base_url=prometheus, timeout=10) as client:
        groups = (await client.get("/api/v1/rules")).json()["data"]["groups"]
    return {g["name"] for g in groups}


async def test_a_killed_processor_pages_through_alertmanager_to_the_alert_log(
    monitoring: Monitoring,
    processor_settings: ProcessorSettings,
    database_url: str,
    tmp_path: Path,
) -> None:
    port = free_port()
    processor = start_processor(
        processor_settings, database_url, tmp_path / "processor.log", metrics_port=port
    )
    try:
        monitoring.scrape({"stream-processors": [f"127.0.0.1:{port}"]})

        async def scraped() -> bool:
            up = await monitoring.query('up{job="stream-processors"}')
            return bool(up) and up[0]["value"][1] == "1"

        await wait_for(scraped, timeout=90, interval=1)
        processor.send_signal(signal.SIGKILL)
        processor.wait(timeout=10)

        # ProcessDown: `up == 0` for 1 m (scrapes every 15 s), then Alertmanager's 10 s
        # group wait, then the webhook.
        async def notified() -> dict[str, Any] | None:
            return await monitoring.notified("ProcessDown")

        alert = await wait_for(notified, timeout=240, interval=2)
        assert alert["status"] == "firing"
        assert alert["labels"]["severity"] == "page"
        assert alert["labels"]["instance"] == f"127.0.0.1:{port}"
        assert alert["annotations"]["runbook"] == "docs/operations.md#processdown"
    finally:
        if processor.poll() is None:
            processor.kill()
            processor.wait(timeout=10)


async def test_alertmanager_delivers_what_it_is_sent(monitoring: Monitoring) -> None:
    """The route of deploy/alertmanager reaches the alert log (no rule involved)."""
    alert = {"labels": {"alertname": "ProbeDelivery", "severity": "ticket"}}
    async with httpx.AsyncClient(base_url=monitoring.alertmanager, timeout=5) as client:
        sent = await client.post("/api/v2/alerts", json=[alert])
    assert sent.status_code == 200

    async def delivered() -> bool:
        async with httpx.AsyncClient(base_url=monitoring.alert_log, timeout=5) as client:
            notes = (await client.get("/alerts")).json()["notifications"]
        return any(a["labels"]["alertname"] == "ProbeDelivery" for n in notes for a in n["alerts"])

    assert await wait_for(delivered, timeout=60, interval=1)


async def test_every_dashboard_panel_query_returns_a_series(
    monitoring: Monitoring,
    historical: tuple[HistoricalSettings, httpx.AsyncClient],
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    producer: AIOKafkaProducer,
    unique: str,
) -> None:
    """The pipeline runs in this process (gateway, sink, API, workers), so the API's
    /metrics serves all their series; Prometheus scrapes it, and every query of every
    shipped panel must return at least one series."""
    settings, api = historical
    stations = [f"{unique}-a", f"{unique}-b"]
    _, user_token = await new_user(database_url, stations)  # org "org" owns them
    token = await make_token(database_url, "org", stations)
    monitoring.scrape({"historical-api": [settings.public_url.removeprefix("http://")]})
    async with (
        running_gateway(gateway_settings, token) as gateway,
        running_sink(processor_settings),
    ):
        for batch in range(3):
            start = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=batch)
            assert (await gateway.post(readings(stations, 200, start=start))).status_code == 202

        # One record the sink cannot store: a dead letter, for the DLQ panel and alert;
        # sent once Prometheus has seen the counter at 0 (as for any running processor).
        async def counter_seen() -> list[dict[str, Any]]:
            return await monitoring.query("scada_sink_dead_lettered_total")

        await wait_for(counter_seen, timeout=90, interval=1)
        await producer.send_and_wait(gateway_settings.topics.readings.name, b"not json")
        auth = {"authorization": f"Bearer {user_token}"}
        job = {
            "stations": stations[:1],
            "sensors": ["temperature"],
            "start": "2026-10-01T00:00:00Z",
            "end": "2026-10-01T06:00:00Z",
        }
        queued = await api.post("/v1/historical-jobs", headers=auth, json=job)
        assert queued.status_code == 202, queued.text

        async def answered(expr: str) -> list[dict[str, Any]]:
            return await monitoring.query(expr)

        for dashboard in DASHBOARDS:
            for panel in dashboard.panels:
                for query in panel.queries:
                    found = await wait_for(
                        lambda e=query.expr: answered(e), timeout=120, interval=2
                    )
                    assert found, f"{dashboard.uid} / {panel.title}: {query.expr}"

        # The dead letter above is also an alert: ReadingsDeadLettered (a ticket, no
        # `for`) from the first evaluation that sees the increase, through Alertmanager.
        async def dead_letter_notified() -> dict[str, Any] | None:
            return await monitoring.notified("ReadingsDeadLettered")

        alert = await wait_for(dead_letter_notified, timeout=120, interval=2)
        assert alert["status"] == "firing"
        assert alert["labels"]["severity"] == "ticket"
        assert alert["annotations"]["runbook"] == "docs/operations.md#readingsdeadlettered"


async def test_a_stopped_sink_under_load_pages_and_the_operations_view_shows_it(
    monitoring: Monitoring,
    backends: Backends,
    browser: Browser,
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    """The stream processors stop while the simulator posts: their group's lag, measured
    by the lag exporter, passes 60 s, ``SinkLagSeconds`` holds for its 2 m and reaches
    the alert log through Alertmanager; meanwhile an operator's Operations view shows
    the alert firing and the lag per partition, and a user without the role has no
    Operations tab (and a 403 from the API)."""
    group = processor_settings.consumer_group
    stations = [f"{unique}-{i}" for i in range(3)]
    _, operator = await new_user(database_url, stations, roles=(OPERATOR,))
    _, viewer = await new_user(database_url, stations)
    write_token = await make_token(database_url, "org", stations)
    api_settings = historical_settings(
        backends.kafka_bootstrap,
        database_url,
        unique,
        tmp_path / "results",
        prometheus_url=monitoring.prometheus,
    )
    metrics_port = free_port()
    monitoring.scrape(
        {
            "stream-processors": [f"127.0.0.1:{metrics_port}"],
            # The gateway runs in this process: the API's /metrics serves its series too.
            "historical-api": [api_settings.public_url.removeprefix("http://")],
        }
    )
    processor = start_processor(
        processor_settings, database_url, tmp_path / "processor.log", metrics_port=metrics_port
    )
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    async with (
        running_historical(api_settings) as api,
        running_gateway(gateway_settings, write_token) as gateway,
    ):
        simulator = asyncio.create_task(
            live(Poster(gateway.client, write_token), stations, rate=30, say=lambda _: None)
        )
        try:
            # The sink keeps up: its group is measured, every partition caught up.
            async def measured() -> list[dict[str, Any]]:
                return await monitoring.query(f'scada_consumer_lag_messages{{group="{group}"}}')

            await wait_for(measured, timeout=120, interval=1)
            processor.send_signal(signal.SIGTERM)
            processor.wait(timeout=30)
            stopped_at = time.monotonic()

            forbidden = await api.get("/v1/operations", headers=_bearer(viewer))
            assert forbidden.status_code == 403
            await page.goto(api_settings.public_url + "/")
            await page.get_by_test_id("token-input").fill(viewer)
            await page.get_by_test_id("sign-in").click()
            await expect(page.get_by_test_id("station-list")).to_contain_text(stations[0])
            await expect(page.get_by_test_id("view-operations")).to_be_hidden()
            await page.locator("#sign-out").click()  # a reload: a fresh page signs in

            await page.get_by_test_id("token-input").fill(operator)
            await page.get_by_test_id("sign-in").click()
            await page.get_by_test_id("view-operations").click()
            ops = page.get_by_test_id("operations")
            await expect(ops).to_be_visible()
            await expect(page.get_by_test_id("ops-lag")).to_contain_text(group, timeout=30_000)

            # 60 s of lag, then the rule's 2 m, then Alertmanager's group wait.
            async def paged() -> dict[str, Any] | None:
                return await monitoring.notified("SinkLagSeconds")

            alert = await wait_for(paged, timeout=360, interval=2)
            assert alert["labels"]["group"] == group
            assert alert["labels"]["severity"] == "page"
            assert alert["annotations"]["runbook"] == "docs/operations.md#sinklagseconds"
            assert time.monotonic() - stopped_at >= 120  # not before its `for`

            firing = page.locator('[data-testid="ops-alerts"] tr[data-alert="SinkLagSeconds"]')
            await expect(firing).to_contain_text("firing", timeout=30_000)
            row = page.locator(f'[data-testid="ops-lag"] tr[data-partition^="{group}/"]').first
            await expect(row.locator("td").last).to_contain_text("min")  # over a minute behind
            for chart in ("rates", "lag"):
                figure = page.locator(f'[data-chart="{chart}"]')
                await expect(figure).not_to_have_attribute("data-point-count", "0")
            await expect(page.get_by_test_id("ops-note")).to_contain_text("from Prometheus")
            await page.screenshot(path=tmp_path / "operations-lag-alert.png", full_page=True)
            if shots := os.environ.get("SCADA_SCREENSHOTS"):
                await page.screenshot(path=Path(shots) / "operations-lag-alert.png", full_page=True)
        finally:
            simulator.cancel()
            await asyncio.gather(simulator, return_exceptions=True)
            await context.close()
            if processor.poll() is None:
                processor.kill()
                processor.wait(timeout=10)
    assert not page_errors, f"the page raised: {page_errors}"


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
