"""The `helpline` command line: serve, migrate, keys, users, bundles, directory, audit, notices."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
from pathlib import Path
from typing import Any

from helpline.datadir import keep_private
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
        ws="websockets-sansio", ws_per_message_deflate=False, ws_max_size=1 << 20, ws_ping_interval=None,
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


_WHY = {"new": "new key", "v1": "signed without a role: sign again", "role": "signed for another role: sign again"}


def cmd_keys_sign(args: argparse.Namespace) -> None:
    """Shows each key that waits for the org key and signs only what the admin confirms, one by one
    on a terminal, or names by fingerprint. With neither, it lists and signs nothing."""
    from helpline.crypto import CryptoError, parse_fingerprint
    from helpline.keys import load_signing_key
    from helpline.staff import sign_keys, waiting_keys

    settings = _settings()
    signing = load_signing_key(Path(args.key_file) if args.key_file else settings.org_key_file)
    url = str(settings.database_url)
    try:
        named = {parse_fingerprint(fp) for fp in args.fingerprint or []}
    except CryptoError:
        sys.exit("A fingerprint has 16 letters and digits, as in 7K3M-Q9XD-2PRT-WZ4A.")
    waiting = asyncio.run(waiting_keys(url, bytes(signing.verify_key)))
    if not waiting:
        print("No staff key waits for the org signature.")
    for key in waiting:
        print(f"{key.fingerprint}  {key.username} ({key.display_name}), {key.role} - {_WHY[key.why]}")
    chosen = []
    if named:
        chosen = [key for key in waiting if key.fingerprint in named]
        for unknown in sorted(named - {key.fingerprint for key in chosen}):
            print(f"No waiting key has the fingerprint {unknown}: not signed.", file=sys.stderr)
    elif waiting and sys.stdin.isatty():
        print("Compare each fingerprint with the one the staff member reads from her console.")
        for key in waiting:
            answer = input(f"Sign {key.fingerprint} as {key.role} {key.username} ({key.display_name})? [y/N] ")
            if answer.strip().lower() in ("y", "yes"):
                chosen.append(key)
    elif waiting:
        print("Nothing signed: confirm on a terminal, or name keys with --fingerprint.")
    signed = asyncio.run(sign_keys(url, signing, chosen)) if chosen else []
    print(f"Signed {len(signed)} staff key(s): {', '.join(k.username + ' ' + k.fingerprint for k in signed) or '-'}")
    if len(signed) < len(chosen):
        sys.exit("Some keys changed after they were shown and were not signed: run the command again.")


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            sys.exit("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


CHAT_ROLES = ("counsellor", "supervisor")  # the roles whose name a child can see


def cmd_user_add(args: argparse.Namespace) -> None:
    from helpline.staff import add_staff

    settings = _settings()
    child_name = (args.child_name or "").strip()
    if not child_name and args.role in CHAT_ROLES and sys.stdin.isatty():
        child_name = input("Name shown to children (one first name, never the username; empty: "
                           "children see a neutral word): ").strip()
    password = _read_password(f"Password for {args.username}: ")
    try:
        asyncio.run(add_staff(str(settings.database_url), args.username, password, args.role,
                              display_name=args.name or args.username, locale=args.locale,
                              child_name=child_name or None))
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
    load_directory(url)
    origin = f"http://{settings.host}:{settings.port}"
    if asyncio.run(count_staff(url)) == 0:
        password = secrets.token_urlsafe(12)
        asyncio.run(add_staff(url, "admin", password, "admin", display_name="Admin", locale="en"))
        print(f"\nFirst admin created. Sign in at {origin}/console\n  username: admin\n  password: {password}\n"
              "  (shown once: keep it safe)\n"
              "At the first sign-in you set up an authenticator app (TOTP) and get recovery codes.")
        print("Add a counsellor to take chats (--child-name: the one first name children see):\n"
              "  .venv/bin/helpline user add USERNAME --role counsellor --child-name FIRSTNAME\n")
    print(f"The child page is at {origin}/ and the console at {origin}/console")


async def _with_store(url: str, work: Any) -> Any:
    """Runs ``work(store)`` against the configured database and disposes of the engine."""
    from helpline.db import Store, make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        return await work(Store(make_sessionmaker(engine), serialise_writes=url.startswith("sqlite")))
    finally:
        await engine.dispose()


def load_directory(url: str, path: Path | None = None) -> Any:
    from referral import directory

    async def work(store: Any) -> Any:
        async with store.write() as db:
            return await directory.load(db, path or directory.DATA_FILE)

    return asyncio.run(_with_store(url, work))


def cmd_directory_load(args: argparse.Namespace) -> None:
    try:
        result = load_directory(str(_settings().database_url), Path(args.file) if args.file else None)
    except (OSError, ValueError) as exc:
        sys.exit(f"The directory was not loaded: {exc}")
    print(f"Directory {result.version}: {result.added} added, {result.updated} updated, "
          f"{result.unchanged} unchanged.")


def cmd_directory_list(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from helpline.models import Agency

    async def work(store: Any) -> list[Agency]:
        async with store.read() as db:
            query = select(Agency).order_by(Agency.kind, Agency.county, Agency.name)
            if args.kind:
                query = query.where(Agency.kind == args.kind)
            return list((await db.execute(query)).scalars())

    for agency in asyncio.run(_with_store(str(_settings().database_url), work)):
        print(f"{agency.code}\t{agency.kind}\t{agency.county or '-'}\t{agency.name}\t{agency.fallback_email or '-'}")


def cmd_directory_contact(args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from helpline.models import Agency

    if args.email and ("@" not in args.email or len(args.email) > 254 or any(c.isspace() for c in args.email)):
        sys.exit("That is not an email address.")

    async def work(store: Any) -> bool:
        async with store.write() as db:
            agency = (await db.execute(select(Agency).where(Agency.code == args.code))).scalar_one_or_none()
            if agency is None:
                return False
            agency.fallback_email = args.email or None
            return True

    if not asyncio.run(_with_store(str(_settings().database_url), work)):
        sys.exit(f"There is no agency {args.code}; see `helpline directory list`.")
    print(f"Fallback contact of {args.code}: {args.email or '-'}")


def cmd_directory_officer(args: argparse.Namespace) -> None:
    """Puts an officer account in an agency, with the address their notices go to."""
    from sqlalchemy import select

    from helpline.models import Agency, OfficerContact, Staff, utcnow

    async def work(store: Any) -> str | None:
        async with store.write() as db:
            staff = (await db.execute(select(Staff).where(Staff.username == args.username))).scalar_one_or_none()
            if staff is None or staff.role != "officer":
                return f"{args.username} is not an officer account (helpline user add NAME --role officer)."
            agency = (await db.execute(select(Agency).where(Agency.code == args.code))).scalar_one_or_none()
            if agency is None:
                return f"There is no agency {args.code}; see `helpline directory list`."
            staff.agency_id = agency.id
            contact = await db.get(OfficerContact, staff.id)
            if args.email:
                if contact is None:
                    db.add(OfficerContact(staff_id=staff.id, email=args.email, updated_at=utcnow()))
                else:
                    contact.email, contact.updated_at = args.email, utcnow()
            return None

    if args.email and ("@" not in args.email or len(args.email) > 254 or any(c.isspace() for c in args.email)):
        sys.exit("That is not an email address.")
    problem = asyncio.run(_with_store(str(_settings().database_url), work))
    if problem:
        sys.exit(problem)
    print(f"{args.username} is an officer of {args.code}.")


def cmd_audit_verify(args: argparse.Namespace) -> None:
    from helpline.security import audit

    async def work(store: Any) -> Any:
        async with store.read() as db:
            return await audit.verify(db)

    verdict = asyncio.run(_with_store(str(_settings().database_url), work))
    if not verdict.ok:
        bad, first_missing = int(verdict.bad_id or 0), verdict.rows + 1
        if bad > first_missing:
            gone = f"row {first_missing}" if bad == first_missing + 1 else f"rows {first_missing} to {bad - 1}"
            problem = f"{gone} {'was' if bad == first_missing + 1 else 'were'} removed (row {bad} follows row " \
                      f"{verdict.rows})"
        else:
            problem = f"row {bad} was altered ({verdict.reason})"
        print(f"The audit log is broken: {problem}; the {verdict.rows} row(s) before it are intact.",
              file=sys.stderr)
        sys.exit(1)
    print(f"The audit log is intact: {verdict.rows} row(s).")


def cmd_notices_list(args: argparse.Namespace) -> None:
    from referral import notices

    async def work(store: Any) -> list[dict[str, Any]]:
        async with store.read() as db:
            return await notices.listing(db, args.limit)

    for item in asyncio.run(_with_store(str(_settings().database_url), work)):
        print(f"{item['id']}\t{item['status']}\t{item['attempts']}\t{item['kind']}\t{item['to']}\t"
              f"{item['last_error'] or ''}")


def cmd_notices_send(args: argparse.Namespace) -> None:
    """One run of what the server's worker does: escalate overdue referrals, send due notices."""
    from referral import deadlines, notices

    settings = _settings()

    async def work(store: Any) -> tuple[int, int]:
        at = deadlines.now()
        escalated = await deadlines.escalate_due(store, settings, at)
        return escalated, await notices.deliver_due(store, notices.make_mailer(settings), settings, at)

    escalated, sent = asyncio.run(_with_store(str(settings.database_url), work))
    print(f"{escalated} referral(s) escalated, {sent} notice(s) sent.")


def cmd_purge(args: argparse.Namespace) -> None:
    """Removes the content of conversations and referrals closed longer than HELPLINE_RETENTION_DAYS."""
    from helpline import retention

    settings = _settings()

    async def work(store: Any) -> retention.Purged:
        return await retention.purge(store, settings)

    done = asyncio.run(_with_store(str(settings.database_url), work))
    print(f"Purged content closed before {retention.cutoff(settings):%Y-%m-%d %H:%M} UTC: {done.messages} "
          f"message(s), {done.case_notes} case note(s), {done.transfer_notes} transfer note(s), "
          f"{done.referral_contents} referral content(s), {done.referral_event_bodies} referral event text(s).")


def cmd_bundle_hash(args: argparse.Namespace) -> None:
    from helpline.bundle import build_all
    from helpline.keys import load_public_key

    settings = _settings()
    for name, item in build_all(load_public_key(settings.org_public_key_file)).items():
        print(f"{name}\t{item.integrity}\t{item.src}")


def cmd_stats_export(args: argparse.Namespace) -> None:
    """Prints the suppressed statistics tables as CSV (the same cells as the /stats download)."""
    import datetime as dt

    from stats import export, queries, report, rollups, web

    settings = _settings()
    try:
        filters = queries.Filters(dt.date.fromisoformat(args.date_from), dt.date.fromisoformat(args.date_to),
                                  args.county, args.category)
        filters.check()
    except ValueError as exc:
        sys.exit(f"stats export: {exc}")

    async def work(store: Any) -> str:
        await rollups.ensure_fresh(store, settings.timezone)
        async with store.read() as db:
            current = await queries.load_slice(db, filters)
            previous = await queries.load_slice(db, filters.previous(), with_open=False)
        built = report.build_report(current, previous, filters, int(settings.stats_k), args.lang)
        return web.to_csv(export.csv_rows(built, args.layout))

    text = asyncio.run(_with_store(str(settings.database_url), work))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_stats_rollup(args: argparse.Namespace) -> None:
    from stats import rollups

    settings = _settings()

    async def work(store: Any) -> int:
        if args.all:
            return await rollups.rebuild(store, settings.timezone)
        await rollups.ensure_fresh(store, settings.timezone, max_age=rollups.NO_WAIT)
        return -1

    rows = asyncio.run(_with_store(str(settings.database_url), work))
    print("roll-ups up to date" + (f": {rows} rows" if rows >= 0 else ""))


async def _demo_agencies(store: Any) -> list[tuple[int, str | None]]:
    """The directory's agencies as (id, county), loading the shipped directory into an empty one."""
    from sqlalchemy import select

    from helpline.models import Agency
    from referral import directory

    async with store.write() as db:
        rows = (await db.execute(select(Agency.id, Agency.county))).all()
        if not rows:
            await directory.load(db)
            rows = (await db.execute(select(Agency.id, Agency.county))).all()
    return [(int(i), c) for i, c in rows]


def cmd_demo_data(args: argparse.Namespace) -> None:
    """Bulk-inserts generated metadata (no content) for the statistics benchmark."""
    import time

    from stats import demo, rollups

    settings = _settings()

    async def work(store: Any) -> Any:
        result = await demo.generate(store, args.conversations, args.referrals, agencies=await _demo_agencies(store),
                                     days=args.days, seed=args.seed)
        if not args.no_rollup:
            await rollups.rebuild(store, settings.timezone)
        return result

    started = time.monotonic()
    result = asyncio.run(_with_store(str(settings.database_url), work))
    print(f"{result.conversations} conversations, {result.case_records} case records, {result.referrals} "
          f"referrals, {result.escalations} escalations in {time.monotonic() - started:.1f} s")


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
    sign = key_cmds.add_parser("sign", help="show staff keys that wait for the org key; sign those confirmed")
    sign.add_argument("--key-file", help="the offline org signing key (default HELPLINE_ORG_KEY_FILE)")
    sign.add_argument("--fingerprint", action="append", metavar="FP",
                      help="sign the waiting key with this fingerprint without asking (repeat for more)")
    sign.set_defaults(func=cmd_keys_sign)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(required=True, metavar="ACTION")
    add = user.add_parser("add", help="add a staff member; the password is read from stdin or prompted")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["counsellor", "supervisor", "officer", "manager", "admin"])
    add.add_argument("--name", help="name shown to colleagues, never to a child (default: the username)")
    add.add_argument("--child-name", help="the first name children see (asked for at a terminal; without it "
                     "children see a neutral word such as 'Këshilltar/e')")
    add.add_argument("--locale", default="sq", choices=["sq", "en"])
    add.set_defaults(func=cmd_user_add)

    sub.add_parser("setup", help="first run: migrate, make keys, create the first admin").set_defaults(func=cmd_setup)
    bundle = sub.add_parser("bundle", help="browser bundles").add_subparsers(required=True, metavar="ACTION")
    bundle.add_parser("hash", help="print each bundle's SHA-384 (publish it)").set_defaults(func=cmd_bundle_hash)
    sub.add_parser("settings", help="list every HELPLINE_* setting").set_defaults(func=cmd_settings)
    sub.add_parser("purge", help="remove content closed longer than HELPLINE_RETENTION_DAYS (counts stay)"
                   ).set_defaults(func=cmd_purge)

    agencies = sub.add_parser("directory", help="agencies that receive referrals").add_subparsers(
        required=True, metavar="ACTION")
    load = agencies.add_parser("load", help="add or update every agency of the data file (by code)")
    load.add_argument("--file", help="data file (default referral/data/agencies.json)")
    load.set_defaults(func=cmd_directory_load)
    listing = agencies.add_parser("list", help="list the agencies")
    listing.add_argument("--kind")
    listing.set_defaults(func=cmd_directory_list)
    contact = agencies.add_parser("contact", help="set an agency's fallback contact (escalations)")
    contact.add_argument("code")
    contact.add_argument("email", nargs="?", default="", help="empty removes it")
    contact.set_defaults(func=cmd_directory_contact)
    officer = agencies.add_parser("officer", help="make an officer account a member of an agency")
    officer.add_argument("username")
    officer.add_argument("code")
    officer.add_argument("--email", help="where their referral notices go")
    officer.set_defaults(func=cmd_directory_officer)

    audit_cmds = sub.add_parser("audit", help="the audit log").add_subparsers(required=True, metavar="ACTION")
    audit_cmds.add_parser("verify", help="check the hash chain; name the first altered or removed row"
                          ).set_defaults(func=cmd_audit_verify)

    notice_cmds = sub.add_parser("notices", help="referral notices (email)").add_subparsers(
        required=True, metavar="ACTION")
    notice_list = notice_cmds.add_parser("list", help="recent notices and their delivery status")
    notice_list.add_argument("--limit", type=int, default=50)
    notice_list.set_defaults(func=cmd_notices_list)
    notice_cmds.add_parser("send", help="escalate overdue referrals and send due notices once"
                           ).set_defaults(func=cmd_notices_send)

    stats_cmds = sub.add_parser("stats", help="anonymised statistics").add_subparsers(
        required=True, metavar="ACTION")
    export = stats_cmds.add_parser("export", help="the suppressed statistics tables as CSV")
    export.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
    export.add_argument("--format", choices=["csv"], default="csv")
    export.add_argument("--layout", choices=["dashboard", "chi"], default="dashboard",
                        help="chi: the Child Helpline International annual-report tables")
    export.add_argument("--county", default="*")
    export.add_argument("--category", default="*")
    export.add_argument("--lang", choices=["sq", "en"], default="sq")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_stats_export)
    rollup = stats_cmds.add_parser("rollup", help="bring the daily roll-ups up to date (idempotent)")
    rollup.add_argument("--all", action="store_true", help="rebuild every day from the first record")
    rollup.set_defaults(func=cmd_stats_rollup)

    demo_cmd = sub.add_parser("demo-data", help="generate conversations, cases and referrals (benchmarks only)")
    demo_cmd.add_argument("--conversations", type=int, default=10_000)
    demo_cmd.add_argument("--referrals", type=int, default=1_000)
    demo_cmd.add_argument("--days", type=int, default=365)
    demo_cmd.add_argument("--seed", type=int, default=7)
    demo_cmd.add_argument("--no-rollup", action="store_true", help="leave the roll-ups to the first request")
    demo_cmd.set_defaults(func=cmd_demo_data)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    keep_private()  # every file a command creates (database, keys, exports) is the service user's only
    args.func(args)


if __name__ == "__main__":
    main()
