"""The `helpline` command line: serve, migrate, keys, users, bundles."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
from pathlib import Path

from helpline.settings import SETTINGS, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        sys.exit(str(exc))


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

    settings = _settings()
    workers = args.workers or settings.workers
    if workers > 1 and not settings.redis_url:
        sys.exit("More than one worker needs HELPLINE_REDIS_URL: the in-process broker serves one process.")
    uvicorn.run(
        "helpline.app:create_app", factory=True,
        host=args.host or settings.host, port=args.port or settings.port, workers=workers,
        ws="websockets-sansio", ws_per_message_deflate=False, ws_max_size=1 << 20,
        access_log=False, proxy_headers=False, server_header=False,
        # uvicorn applies log_level to its own loggers after log_config: never DEBUG (see log_config).
        log_level="info" if settings.log_level == "DEBUG" else settings.log_level.lower(),
        log_config=log_config(settings.log_level),
        timeout_graceful_shutdown=10,
    )


def upgrade_database(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    if url.startswith("sqlite+aiosqlite:///"):
        Path(url.removeprefix("sqlite+aiosqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config, "head")


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    upgrade_database(str(_settings().database_url))
    print("Database is up to date.")


def cmd_keys_init(args: argparse.Namespace) -> None:
    from helpline.keys import init_org_key

    settings = _settings()
    created, public = init_org_key(settings.org_key_file, settings.org_public_key_file)
    print(("Created" if created else "Kept") + f" the org signing key. Public key: {public}")


def cmd_keys_sign(args: argparse.Namespace) -> None:
    from helpline.keys import load_signing_key
    from helpline.staff import sign_pending_keys

    settings = _settings()
    signing = load_signing_key(Path(args.key_file) if args.key_file else settings.org_key_file)
    signed = asyncio.run(sign_pending_keys(str(settings.database_url), signing))
    print(f"Signed {len(signed)} staff key(s): {', '.join(signed) or '-'}")


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            sys.exit("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_user_add(args: argparse.Namespace) -> None:
    from helpline.staff import add_staff

    settings = _settings()
    password = _read_password(f"Password for {args.username}: ")
    try:
        asyncio.run(add_staff(str(settings.database_url), args.username, password, args.role,
                              display_name=args.name or args.username, locale=args.locale))
    except ValueError as exc:
        sys.exit(str(exc))
    print(f"Added {args.role} {args.username}.")


def cmd_setup(args: argparse.Namespace) -> None:
    """First run on a fresh machine: database, keys, a first admin; idempotent."""
    from helpline.keys import init_org_key
    from helpline.staff import add_staff, count_staff

    settings = _settings()
    upgrade_database(str(settings.database_url))
    init_org_key(settings.org_key_file, settings.org_public_key_file)
    url = str(settings.database_url)
    origin = f"http://{settings.host}:{settings.port}"
    if asyncio.run(count_staff(url)) == 0:
        password = secrets.token_urlsafe(12)
        asyncio.run(add_staff(url, "admin", password, "admin", display_name="Admin", locale="en"))
        print(f"\nFirst admin created. Sign in at {origin}/console\n  username: admin\n  password: {password}\n"
              "  (shown once: keep it safe)")
        print("Add a counsellor to take chats:\n  .venv/bin/helpline user add NAME --role counsellor\n")
    print(f"The child page is at {origin}/ and the console at {origin}/console")


def cmd_bundle_hash(args: argparse.Namespace) -> None:
    from helpline.bundle import build_all
    from helpline.keys import load_public_key

    settings = _settings()
    for name, item in build_all(load_public_key(settings.org_public_key_file)).items():
        print(f"{name}\t{item.integrity}\t{item.src}")


def cmd_settings(args: argparse.Namespace) -> None:
    for setting in SETTINGS:
        print(f"{setting.name}={setting.default}\n    {setting.help}")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="helpline", description="Helpline: anonymous chat for a child helpline")
    sub = top.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply every Alembic migration").set_defaults(func=cmd_db_upgrade)

    key_cmds = sub.add_parser("keys", help="org signing key").add_subparsers(required=True, metavar="ACTION")
    key_cmds.add_parser("init", help="create the org signing key if absent").set_defaults(func=cmd_keys_init)
    sign = key_cmds.add_parser("sign", help="sign staff keys that wait for the org key")
    sign.add_argument("--key-file", help="the offline org signing key (default HELPLINE_ORG_KEY_FILE)")
    sign.set_defaults(func=cmd_keys_sign)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(required=True, metavar="ACTION")
    add = user.add_parser("add", help="add a staff member; the password is read from stdin or prompted")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["counsellor", "supervisor", "officer", "manager", "admin"])
    add.add_argument("--name", help="name shown to colleagues and to the child (default: the username)")
    add.add_argument("--locale", default="sq", choices=["sq", "en"])
    add.set_defaults(func=cmd_user_add)

    sub.add_parser("setup", help="first run: migrate, make keys, create the first admin").set_defaults(func=cmd_setup)
    bundle = sub.add_parser("bundle", help="browser bundles").add_subparsers(required=True, metavar="ACTION")
    bundle.add_parser("hash", help="print each bundle's SHA-384 (publish it)").set_defaults(func=cmd_bundle_hash)
    sub.add_parser("settings", help="list every HELPLINE_* setting").set_defaults(func=cmd_settings)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
