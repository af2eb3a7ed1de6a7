"""``scada soak`` end to end, briefly: load, a live stream, chart jobs, samples, a verdict."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn

from ingest_gateway.app import create_app
from ingest_gateway.settings import GatewaySettings
from stream_processors.settings import ProcessorSettings
from tests.backends import Backends
from tests.history import free_port, historical_settings, new_user, running_historical
from tests.pipeline import make_token, running_sink, wait_for
from tooling.soak import SoakTarget, soak


@asynccontextmanager
async def serving_gateway(settings: GatewaySettings) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:

        async def started() -> bool:
            await asyncio.sleep(0)
            return bool(server.started)

        await wait_for(started, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def test_a_short_soak_posts_streams_charts_and_reports(
    backends: Backends,
    gateway_settings: GatewaySettings,
    processor_settings: ProcessorSettings,
    database_url: str,
    unique: str,
    tmp_path: Path,
) -> None:
    token = await make_token(database_url, "org", ["*"])  # new_user makes users of "org"
    api_settings = historical_settings(
        backends.kafka_bootstrap, database_url, unique, tmp_path / "results"
    )
    log = tmp_path / "service.log"
    log.write_text("2026-12-01 10:00:00 ERROR before the soak: not counted\n")
    async with (
        serving_gateway(gateway_settings) as gateway_url,
        running_sink(processor_settings),
        running_historical(api_settings),
    ):
        # The user reads the org's stations; the soak's are registered by its POSTs.
        _, user_token = await new_user(database_url, ["*"])
        target = SoakTarget(
            gateway_url=gateway_url,
            api_url=api_settings.public_url,
            write_token=token,
            user_token=user_token,
            kafka_bootstrap=backends.kafka_bootstrap,
            sink_group=processor_settings.consumer_group,
            processes={"tests": os.getpid()},
            logs=[log],
        )
        report = await soak(target, minutes=0.4, rate=2000, say=print, sample_every=3)
    assert report.posted >= 40_000  # 24 s at 2,000 a second
    assert report.refused == 0
    assert report.live_frames > 5  # the snapshot, then readings as they arrive
    assert report.jobs_completed >= 1
    assert len(report.rss["tests"]) >= 5
    assert report.lag_messages  # the sink group's lag was read
    assert report.error_lines == 0
    summary = report.as_dict()
    assert set(summary["rss_mib"]["tests"]) == {"warm", "min", "max", "end"}
