"""``python -m ingest_gateway``: serve the gateway with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from ingest_gateway.app import create_app
from ingest_gateway.settings import GatewaySettings


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = GatewaySettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        limit_concurrency=1000,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
