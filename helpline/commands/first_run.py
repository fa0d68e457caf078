"""`setup`: the first run on a fresh machine."""

from __future__ import annotations

import argparse
import asyncio
import secrets

from helpline.commands._shared import settings_or_exit
from helpline.commands.database import upgrade_database
from helpline.commands.directory import load_directory


def cmd_setup(args: argparse.Namespace) -> None:
    """First run on a fresh machine: database, keys, a first admin; idempotent."""
    from helpline.keys import init_org_key
    from helpline.staff import add_staff, count_staff

    settings = settings_or_exit()
    upgrade_database(str(settings.database_url))
    init_org_key(settings.org_key_file, settings.org_public_key_file)
    url = str(settings.database_url)
    load_directory(url)
    origin = f"http://{settings.host}:{settings.port}"
    if asyncio.run(count_staff(url)) == 0:
        password = secrets.token_urlsafe(12)
        from helpline.i18n import default_locale, locales

        english = "en" if "en" in locales() else default_locale()  # the operator's, when the helpline has it
        asyncio.run(add_staff(url, "admin", password, "admin", display_name="Admin", locale=english))
        print(f"\nFirst admin created. Sign in at {origin}/console\n  username: admin\n  password: {password}\n"
              "  (shown once: keep it safe)\n"
              "At the first sign-in you set up an authenticator app (TOTP) and get recovery codes.")
        print("Add a counsellor to take chats (--child-name: the one first name children see):\n"
              "  .venv/bin/helpline user add USERNAME --role counsellor --child-name FIRSTNAME\n")
    print(f"The child page is at {origin}/ and the console at {origin}/console")
