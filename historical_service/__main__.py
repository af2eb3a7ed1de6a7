"""``python -m historical_service [api|worker]``: the API or the workers."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import uvicorn
from prometheus_client import start_http_server

from historical_service.app import create_app
from historical_service.service import run_workers
from historical_service.settings import HistoricalSettings


async def _workers(settings: HistoricalSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run_workers(settings, stop)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = HistoricalSettings()
    role = sys.argv[1] if len(sys.argv) > 1 else "api"
    if role == "worker":
        if settings.worker_metrics_port:
            start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
        asyncio.run(_workers(settings))
    elif role == "api":
        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            access_log=False,
            timeout_graceful_shutdown=5,
            # Beyond this many open connections (SSE streams included) uvicorn answers 503.
            limit_concurrency=1000,
        )
    else:
        raise SystemExit("usage: python -m historical_service [api|worker]")


if __name__ == "__main__":
    main()
