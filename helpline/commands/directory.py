"""The agencies that receive referrals: `directory load`, `list`, `contact` and `officer`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from helpline.commands._shared import settings_or_exit, with_store


def load_directory(url: str, path: Path | None = None) -> Any:
    """Adds or updates every agency of the data file (the shipped one by default), by code."""
    from referral import directory

    async def work(store: Any) -> Any:
        async with store.write() as db:
            return await directory.load(db, path)

    return asyncio.run(with_store(url, work))


def cmd_directory_load(args: argparse.Namespace) -> None:
    try:
        result = load_directory(str(settings_or_exit().database_url), Path(args.file) if args.file else None)
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

    for agency in asyncio.run(with_store(str(settings_or_exit().database_url), work)):
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

    if not asyncio.run(with_store(str(settings_or_exit().database_url), work)):
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
    problem = asyncio.run(with_store(str(settings_or_exit().database_url), work))
    if problem:
        sys.exit(problem)
    print(f"{args.username} is an officer of {args.code}.")
