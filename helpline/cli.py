"""The `helpline` command line: serve, migrate, keys, users, bundles, directory, audit, notices.

This module parses the command line, one function per group of commands; what each command does
is in `helpline.commands`."""

from __future__ import annotations

import argparse

from helpline.commands import directory, notices, records, server, staff, statistics
from helpline.commands import pack as pack_commands
from helpline.commands.database import cmd_db_upgrade
from helpline.commands.first_run import cmd_setup
from helpline.datadir import keep_private


def _add_server_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=server.cmd_serve)

    db = sub.add_parser("db", help="database").add_subparsers(required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply every Alembic migration").set_defaults(func=cmd_db_upgrade)


def _add_staff_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    key_cmds = sub.add_parser("keys", help="org signing key").add_subparsers(required=True, metavar="ACTION")
    key_cmds.add_parser("init", help="create the org signing key if absent").set_defaults(func=staff.cmd_keys_init)
    sign = key_cmds.add_parser("sign", help="show staff keys that wait for the org key; sign those confirmed")
    sign.add_argument("--key-file", help="the offline org signing key (default HELPLINE_ORG_KEY_FILE)")
    sign.add_argument("--fingerprint", action="append", metavar="FP",
                      help="sign the waiting key with this fingerprint without asking (repeat for more)")
    sign.set_defaults(func=staff.cmd_keys_sign)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(required=True, metavar="ACTION")
    add = user.add_parser("add", help="add a staff member; the password is read from stdin or prompted")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["counsellor", "supervisor", "officer", "manager", "admin"])
    add.add_argument("--name", help="name shown to colleagues, never to a child (default: the username)")
    add.add_argument("--child-name", help="the first name children see (asked for at a terminal; without it "
                     "children see a neutral word such as 'Këshilltar/e')")
    add.add_argument("--locale", help="one of the helpline's languages, e.g. sq or sr_Latn (default: its default)")
    add.set_defaults(func=staff.cmd_user_add)


def _add_operation_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("setup", help="first run: migrate, make keys, create the first admin").set_defaults(func=cmd_setup)
    bundle = sub.add_parser("bundle", help="browser bundles").add_subparsers(required=True, metavar="ACTION")
    bundle.add_parser("hash", help="print each bundle's SHA-384 (publish it)").set_defaults(
        func=server.cmd_bundle_hash)
    sub.add_parser("settings", help="list every HELPLINE_* setting").set_defaults(func=server.cmd_settings)
    sub.add_parser("purge", help="remove content closed longer than HELPLINE_RETENTION_DAYS (counts stay)"
                   ).set_defaults(func=records.cmd_purge)


def _add_directory_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agencies = sub.add_parser("directory", help="agencies that receive referrals").add_subparsers(
        required=True, metavar="ACTION")
    load = agencies.add_parser("load", help="add or update every agency of the data file (by code)")
    load.add_argument("--file", help="data file (default: the helpline pack's agencies.json)")
    load.set_defaults(func=directory.cmd_directory_load)
    listing = agencies.add_parser("list", help="list the agencies")
    listing.add_argument("--kind")
    listing.set_defaults(func=directory.cmd_directory_list)
    contact = agencies.add_parser("contact", help="set an agency's fallback contact (escalations)")
    contact.add_argument("code")
    contact.add_argument("email", nargs="?", default="", help="empty removes it")
    contact.set_defaults(func=directory.cmd_directory_contact)
    officer = agencies.add_parser("officer", help="make an officer account a member of an agency")
    officer.add_argument("username")
    officer.add_argument("code")
    officer.add_argument("--email", help="where their referral notices go")
    officer.set_defaults(func=directory.cmd_directory_officer)


def _add_pack_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    packs = sub.add_parser("pack", help="the helpline pack: languages, numbers, places, directory (docs/packs.md)"
                           ).add_subparsers(required=True, metavar="ACTION")
    check = packs.add_parser("check", help="name every problem of a pack folder (exit 1 if there is one)")
    check.add_argument("dir", help="the pack folder (with pack.toml)")
    check.set_defaults(func=pack_commands.cmd_pack_check)
    load = packs.add_parser("load", help="check a pack, then install it in the data folder and load its directory")
    load.add_argument("dir", help="the pack folder (with pack.toml)")
    load.set_defaults(func=pack_commands.cmd_pack_load)


def _add_audit_and_notice_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit_cmds = sub.add_parser("audit", help="the audit log").add_subparsers(required=True, metavar="ACTION")
    audit_cmds.add_parser("verify", help="check the hash chain; name the first altered or removed row"
                          ).set_defaults(func=records.cmd_audit_verify)

    notice_cmds = sub.add_parser("notices", help="referral notices (email)").add_subparsers(
        required=True, metavar="ACTION")
    notice_list = notice_cmds.add_parser("list", help="recent notices and their delivery status")
    notice_list.add_argument("--limit", type=int, default=50)
    notice_list.set_defaults(func=notices.cmd_notices_list)
    notice_cmds.add_parser("send", help="escalate overdue referrals and send due notices once"
                           ).set_defaults(func=notices.cmd_notices_send)


def _add_statistics_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    export.add_argument("--lang", help="one of the helpline's languages (default: its default)")
    export.add_argument("--output", help="file to write (default: standard output)")
    export.set_defaults(func=statistics.cmd_stats_export)
    rollup = stats_cmds.add_parser("rollup", help="bring the daily roll-ups up to date (idempotent)")
    rollup.add_argument("--all", action="store_true", help="rebuild every day from the first record")
    rollup.set_defaults(func=statistics.cmd_stats_rollup)

    demo_cmd = sub.add_parser("demo-data", help="generate conversations, cases and referrals (benchmarks only)")
    demo_cmd.add_argument("--conversations", type=int, default=10_000)
    demo_cmd.add_argument("--referrals", type=int, default=1_000)
    demo_cmd.add_argument("--contacts", type=int, default=None,
                          help="contacts on the other channels, most of them calls (default: 3 x conversations)")
    demo_cmd.add_argument("--days", type=int, default=365)
    demo_cmd.add_argument("--seed", type=int, default=7)
    demo_cmd.add_argument("--no-rollup", action="store_true", help="leave the roll-ups to the first request")
    demo_cmd.set_defaults(func=statistics.cmd_demo_data)


def parser() -> argparse.ArgumentParser:
    """The whole command line; the groups are added in the order `helpline --help` lists them."""
    top = argparse.ArgumentParser(prog="helpline", description="Helpline: anonymous chat for a child helpline")
    sub = top.add_subparsers(required=True, metavar="COMMAND")
    _add_server_commands(sub)
    _add_staff_commands(sub)
    _add_operation_commands(sub)
    _add_directory_commands(sub)
    _add_pack_commands(sub)
    _add_audit_and_notice_commands(sub)
    _add_statistics_commands(sub)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    keep_private()  # every file a command creates (database, keys, exports) is the service user's only
    args.func(args)


if __name__ == "__main__":
    main()
