"""Staff accounts and the org key that vouches for their keys: `user add`, `keys init`, `keys sign`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from helpline.commands._shared import language_or_exit, settings_or_exit

CHAT_ROLES = ("counsellor", "supervisor")  # the roles whose name a child can see

_WHY = {"new": "new key", "v1": "signed without a role: sign again", "role": "signed for another role: sign again"}


def cmd_keys_init(args: argparse.Namespace) -> None:
    from helpline.keys import init_org_key

    settings = settings_or_exit()
    created, public = init_org_key(settings.org_key_file, settings.org_public_key_file)
    print(("Created" if created else "Kept") + f" the org signing key. Public key: {public}")


def cmd_keys_sign(args: argparse.Namespace) -> None:
    """Shows each key that waits for the org key and signs only what the admin confirms, one by one
    on a terminal, or names by fingerprint. With neither, it lists and signs nothing."""
    from helpline.crypto import CryptoError, parse_fingerprint
    from helpline.keys import load_signing_key
    from helpline.staff import sign_keys, waiting_keys

    settings = settings_or_exit()
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


def cmd_user_add(args: argparse.Namespace) -> None:
    from helpline.staff import add_staff

    settings = settings_or_exit()
    locale = language_or_exit(args.locale)
    child_name = (args.child_name or "").strip()
    if not child_name and args.role in CHAT_ROLES and sys.stdin.isatty():
        child_name = input("Name shown to children (one first name, never the username; empty: "
                           "children see a neutral word): ").strip()
    password = _read_password(f"Password for {args.username}: ")
    try:
        asyncio.run(add_staff(str(settings.database_url), args.username, password, args.role,
                              display_name=args.name or args.username, locale=locale,
                              child_name=child_name or None))
    except ValueError as exc:
        sys.exit(str(exc))
    print(f"Added {args.role} {args.username}.")
