"""Running the service: `serve` (with its logging), `settings`, and `bundle hash`."""

from __future__ import annotations

import argparse
import sys

from helpline.commands._shared import settings_or_exit
from helpline.settings import SETTINGS


def log_config(level: str) -> dict[str, object]:
    """Logging for `serve`: no access log, and the WebSocket library never below WARNING.

    The websockets library logs raw handshake headers (user agent included) at DEBUG, before any
    of our code can remove them, and uvicorn hands it the ``uvicorn.error`` logger; so that logger
    never goes below INFO whatever HELPLINE_LOG_LEVEL says.
    """
    server_level = "INFO" if level == "DEBUG" else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": server_level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": server_level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "websockets": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "uvicorn.protocols": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
            "helpline": {"handlers": ["stderr"], "level": level, "propagate": False},
            "sqlalchemy": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = settings_or_exit()
    workers = args.workers or settings.workers
    if workers > 1 and not settings.redis_url:
        sys.exit("More than one worker needs HELPLINE_REDIS_URL: the in-process broker serves one process.")
    if workers > 1:  # the workers share one folder of metric values: any of them answers /metrics for all
        from helpline.metrics import prepare_workers

        prepare_workers(settings.data_dir)
    uvicorn.run(
        "helpline.app:create_app", factory=True,
        host=args.host or settings.host, port=args.port or settings.port, workers=workers,
        ws="websockets-sansio", ws_per_message_deflate=False, ws_max_size=1 << 20, ws_ping_interval=None,
        access_log=False, proxy_headers=False, server_header=False,
        # uvicorn applies log_level to its own loggers after log_config: never DEBUG (see log_config).
        log_level="info" if settings.log_level == "DEBUG" else settings.log_level.lower(),
        log_config=log_config(settings.log_level),
        timeout_graceful_shutdown=10,
    )


def cmd_settings(args: argparse.Namespace) -> None:
    for setting in SETTINGS:
        print(f"{setting.name}={setting.default}\n    {setting.help}")


def cmd_bundle_hash(args: argparse.Namespace) -> None:
    from helpline.bundle import build_all
    from helpline.keys import load_public_key

    settings = settings_or_exit()
    for name, item in build_all(load_public_key(settings.org_public_key_file)).items():
        print(f"{name}\t{item.integrity}\t{item.src}")
