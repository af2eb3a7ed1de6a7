"""``python -m stream_processors``: the TimescaleDB sink, with /metrics (``SCADA_METRICS_PORT``)."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from stream_processors.service import run_sink
from stream_processors.settings import ProcessorSettings


async def _main(settings: ProcessorSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_sink(settings, stop)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = ProcessorSettings()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    asyncio.run(_main(settings))


if __name__ == "__main__":
    main()
