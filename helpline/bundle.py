"""Browser bundles: reproducible concatenations with the org public key pinned inside.

`helpline bundle hash` prints the SHA-384 of each bundle; the release notes publish it, so a
server that swapped the pinned key (or any script) would be caught by anyone who compares.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from helpline import i18n
from helpline.crypto import b64u_encode

ROOT = Path(__file__).resolve().parent.parent
NACL = ROOT / "node_modules" / "tweetnacl" / "nacl.min.js"
WIRE = ROOT / "helpline" / "static" / "js" / "wire.js"
READERS = ROOT / "helpline" / "static" / "js" / "readers.js"  # sealing for a team of readers (ADR 0027)
L10N = ROOT / "helpline" / "static" / "js" / "l10n.js"  # staff pages: dates, times, plurals
FMT = ROOT / "helpline" / "static" / "js" / "fmt.js"  # `%(helpline)s` in a string from the page's numbers
PLURAL = ROOT / "helpline" / "static" / "js" / "plural.js"  # plural forms by the locale's CLDR rule (ADR 0039)
VOICE = ROOT / "helpline" / "static" / "js" / "voice.js"
SOURCES: dict[str, list[Path]] = {
    # The child's pages (child_ui/): the chat page and, below, the public report page.
    "child": [NACL, WIRE, PLURAL, FMT, ROOT / "child_ui" / "static" / "child.js"],
    "console": [NACL, WIRE, PLURAL, L10N, FMT, *(ROOT / "counsellor_ui" / "static" / f"{name}.js"
                              for name in ("console", "console_auth", "console_cases", "console_supervise",
                                           "console_admin", "console_refcore", "console_referrals", "console_follow",
                                           "console_refcheck", "console_refthread", "console_refmulti",
                                           "console_emergency", "console_directory", "console_casework",
                                           "console_followups", "console_waiting", "console_contact_form",
                                           "console_lines", "console_layout", "console_notify", "console_services",
                                           "console_voice"))],
    # The officers' portal at /referrals: the console's core and sign-in, then its own page script.
    "portal": [NACL, WIRE, PLURAL, L10N, *(ROOT / "counsellor_ui" / "static" / f"{name}.js"
                                   for name in ("console", "console_auth", "console_refcore", "console_follow",
                                                "console_refthread", "console_portal"))],
    # The public page for reporting illegal content at /report: it encrypts the report itself.
    "report": [NACL, WIRE, READERS, FMT, ROOT / "child_ui" / "static" / "report.js"],
    # Loaded by the chat page only when a waiting child needs it (the helpline's number, a left message,
    # "I am in danger now"): on top of the child bundle, so without tweetnacl, wire.js and fmt.js, and with
    # its own strings.
    "child_waiting": [READERS, ROOT / "child_ui" / "static" / "child_waiting.js"],
    # Voice calls (ADR 0033): loaded by the pages only when a call starts, after their own bundle.
    "voice": [VOICE],
    "voice_child": [VOICE, ROOT / "child_ui" / "static" / "voice_child.js"],
}


@dataclass(frozen=True)
class Bundle:
    name: str
    body: bytes
    gzipped: bytes
    sha384: str

    @property
    def integrity(self) -> str:
        return "sha384-" + self.sha384

    @property
    def src(self) -> str:
        # The hash in the name lets the bundle be cached forever and never go stale.
        digest = base64.b64decode(self.sha384)[:9]
        return f"/bundle/{self.name}.{b64u_encode(digest)}.js"


class BundleError(RuntimeError):
    pass


# Whole-line comments of our own scripts leave the child bundle: the child page has a 30 KB budget
# (tests/browser/test_child_light.py) and comments are a fifth of it. Only lines that are nothing but
# a comment go (a `/* … */` block from the start of a line to the end of one, or a `//` line), so no
# code changes; the sources in git keep every comment.
COMMENT_LINES = re.compile(rb"^[ \t]*(?:/\*(?:[^*]|\*(?!/))*\*/|//[^\n]*)[ \t]*\n", re.M)
STRIPPED = {"child", "report", "child_waiting", "voice_child"}
# What else the child pages' first load need not carry (issue 20: 30 KB with the chat on a cheap phone):
# wire.js's staff-only section (sign-in derivation, private-key sealing, fingerprints), and the
# indentation of our own lines (our scripts have no template literal or line continuation, so no
# string spans lines), and a `//` comment after the end of a statement when no quote follows it.
STAFF_ONLY = re.compile(rb"^[ \t]*// staff only:[^\n]*\n.*?^[ \t]*// end of staff only[ \t]*\n", re.M | re.S)
INDENT = re.compile(rb"^[ \t]+", re.M)
TRAILING_COMMENT = re.compile(rb"([;{},)])[ \t]+//[^\n'\"`]*$", re.M)


def slim(text: bytes) -> bytes:
    """One of our scripts as the child pages' bundles carry it: the same code, less to download."""
    text = COMMENT_LINES.sub(b"", STAFF_ONLY.sub(b"", text))
    return TRAILING_COMMENT.sub(rb"\1", INDENT.sub(b"", text))


# A bundle loaded after the page carries its own strings, in every locale, from the catalogs: the
# page's config block holds only those of the first load (ADR 0008).
OWN_STRINGS = {"child_waiting": ROOT / "child_ui" / "static" / "child_waiting.js",
               "voice_child": ROOT / "child_ui" / "static" / "voice_child.js"}


def own_strings(path: Path) -> bytes:
    table = {locale: {msg: i18n.translate(locale, msg) for msg in i18n.js_messages(path)} for locale in i18n.locales()}
    return ("var HELPLINE_BUNDLE_STRINGS=" + json.dumps(table, ensure_ascii=False, sort_keys=True) + ";\n").encode()


def build(name: str, org_public_key: bytes) -> Bundle:
    """Concatenates the sources in a fixed order; the same inputs give the same bytes."""
    parts = [f'var HELPLINE_ORG_KEY="{b64u_encode(org_public_key)}";\n'.encode("ascii")]
    if name in OWN_STRINGS:
        parts.append(own_strings(OWN_STRINGS[name]))
    for path in SOURCES[name]:
        try:
            text = path.read_bytes()
            if name in STRIPPED and "node_modules" not in path.parts:
                text = slim(text)
            parts.append(text.rstrip(b"\n") + b"\n")
        except OSError as exc:
            hint = " (run `npm ci`)" if "node_modules" in str(path) else ""
            raise BundleError(f"cannot build the {name} bundle: {path} is missing{hint}") from exc
    body = b"".join(parts)
    digest = base64.b64encode(hashlib.sha384(body).digest()).decode("ascii")
    return Bundle(name, body, gzip.compress(body, compresslevel=9, mtime=0), digest)


def build_all(org_public_key: bytes) -> dict[str, Bundle]:
    return {name: build(name, org_public_key) for name in SOURCES}
