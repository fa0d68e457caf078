"""What every command needs: the settings (or a clean exit when they are wrong) and a store on the
configured database."""

from __future__ import annotations

import sys
from typing import Any

from helpline.settings import Settings, SettingsError, load_settings


def settings_or_exit() -> Settings:
    """The settings, or an exit with the reason they are wrong."""
    try:
        return load_settings()
    except SettingsError as exc:
        sys.exit(str(exc))


async def with_store(url: str, work: Any) -> Any:
    """Runs ``work(store)`` against the configured database and disposes of the engine."""
    from helpline.db import Store, make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        return await work(Store(make_sessionmaker(engine), serialise_writes=url.startswith("sqlite")))
    finally:
        await engine.dispose()


def language_or_exit(code: str | None) -> str:
    """A `--locale`/`--lang` option: one of the helpline's languages, else its default (ADR 0039)."""
    from helpline import pack
    from helpline.i18n import default_locale, locales, use_pack

    use_pack(pack.active())  # the installed helpline pack's languages
    if code is None:
        return default_locale()
    if code not in locales():
        sys.exit(f"unknown language {code!r}: this helpline speaks {', '.join(locales())}")
    return code
