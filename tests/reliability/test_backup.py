"""Backup and restore, as docs/backup.md tells an operator to do it (issue 6).

A chat happens; the database is backed up while the server runs (SQLite: ``VACUUM INTO``;
PostgreSQL: ``pg_dump -Fc``); the installation is lost; the backup is restored into a new data
folder / a new database with the kept key files, and a new server lets the counsellor sign in
(password and TOTP) and read the chat again, decrypted in the client. Without the kept server
secret, the restored installation refuses the second factor: that file must be backed up too.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.chat_client import StaffClient
from tests.integration.test_chat_e2e import eventually, open_chat
from tests.reliability.test_faults import texts
from tests.support import ServerProcess, Stack, create_pg_database, drop_pg_database

pytestmark = pytest.mark.slow

KEPT = ("org-public.key", "server-secret.key")  # online key files; org-signing.key is kept offline


def backup(stack: Stack, dest: Path) -> None:
    if stack.sqlite_path is not None:
        with sqlite3.connect(stack.sqlite_path) as db:
            db.execute("VACUUM INTO ?", (str(dest),))  # a consistent copy while the server writes
    else:
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dest),  # noqa: S603,S607
                        stack.database_url.replace("+asyncpg", "")], check=True, capture_output=True)


def restore(stack: Stack, dump: Path, new_dir: Path, keys_from: Path) -> Stack:
    new_dir.mkdir()
    for name in KEPT:
        shutil.copy2(keys_from / name, new_dir / name)
    env = dict(stack.env)
    env.update({"HELPLINE_DATA_DIR": str(new_dir), "HELPLINE_ORG_KEY_FILE": str(new_dir / "org-signing.key"),
                "HELPLINE_ORG_PUBLIC_KEY_FILE": str(new_dir / "org-public.key"),
                "HELPLINE_SECRET_FILE": str(new_dir / "server-secret.key")})
    if stack.sqlite_path is not None:
        shutil.copy2(dump, new_dir / "helpline.db")
        url = f"sqlite+aiosqlite:///{new_dir}/helpline.db"
    else:
        name = stack.database_url.rsplit("/", 1)[1] + "_restored"
        create_pg_database(name)
        url = stack.database_url.rsplit("/", 1)[0] + "/" + name
        subprocess.run(["pg_restore", "--no-owner", "-d", url.replace("+asyncpg", ""),  # noqa: S603,S607
                        str(dump)], check=True, capture_output=True)
    env["HELPLINE_DATABASE_URL"] = url
    return Stack(stack.backend, new_dir, url, stack.redis_url, stack.redis_prefix + "restored:", env,
                 stack.org_public_key)


async def test_backup_and_restore_keep_every_message_readable(stack: Stack, start_server: object,
                                                             tmp_path: Path) -> None:
    from tests.support import add_user

    server = start_server()  # type: ignore[operator]
    password = add_user(stack, "ana")
    child, staff, conv = await open_chat(server, stack, password)
    await child.say("m1")
    await staff.say(conv, "r1")
    await eventually(lambda: texts(staff, conv) == ["m1"])
    dump = tmp_path / ("backup.db" if stack.sqlite_path else "backup.dump")
    backup(stack, dump)
    await child.close()
    await staff.close()
    for running in stack.servers:
        running.stop()

    restored = restore(stack, dump, tmp_path / "restored", stack.data_dir)
    try:
        again = ServerProcess(restored).start()
        restored.servers.append(again)
        reader = StaffClient(again.url, "ana", password)
        await reader.sign_in()  # password and TOTP: the server secret came back with the key files
        await reader.connect()
        await reader.sync(conv, 0)
        await eventually(lambda: texts(reader, conv) == ["m1"] and texts(reader, conv, reader.participant) == ["r1"])
        await reader.close()
        again.stop()

        # The same backup with a new server secret: the sealed TOTP secrets cannot be opened.
        (restored.data_dir / "server-secret.key").unlink()
        shutil.copy2(stack.data_dir / "org-public.key", restored.data_dir / "org-public.key")
        lost = ServerProcess(restored).start()
        restored.servers.append(lost)
        stranger = StaffClient(lost.url, "ana", password)
        with pytest.raises(httpx.HTTPError):
            await stranger.sign_in()
        assert "Traceback" not in again.log()
    finally:
        for running in restored.servers:
            running.stop()
        if restored.backend == "postgres":
            drop_pg_database(restored.database_url.rsplit("/", 1)[1])
