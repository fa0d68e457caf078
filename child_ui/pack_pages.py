"""Safety pages a helpline pack brings (issue 23, docs/packs.md): ``<pack>/pages/<locale>/<slug>.html``
replaces the shipped safety page of that slug in that language, ``<pack>/pages/<locale>/easy/<slug>.html``
an easy-read page. A pack page is Jinja and may extend the shipped layouts ("help/_page.html",
"help/easy/_easy.html"); a language without its own page keeps the shipped one, translated by the catalogs.
"""

from __future__ import annotations

import jinja2

from helpline import pack

PREFIX = "pack"


def loader() -> jinja2.BaseLoader:
    """Finds ``pack/<locale>/<page>.html`` in the active pack's pages folder."""
    return jinja2.PrefixLoader({PREFIX: jinja2.FileSystemLoader(str(pack.active().root / "pages"))})


def template(locale: str, name: str) -> str:
    """The template to render for a shipped page ``help/<page>.html``: the pack's own for this language
    when it has one, else the shipped one. ``name`` is built from a known slug, never from the request."""
    relative = name.removeprefix("help/")
    if (pack.active().root / "pages" / locale / relative).is_file():
        return f"{PREFIX}/{locale}/{relative}"
    return name
