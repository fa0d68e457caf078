"""A voice call from the chat (issue 24, ADR 0033), in two Chromium contexts with fake audio
devices, through the test's own coturn: the counsellor hears the child's tone pitch-shifted; no
address of the child reaches the counsellor's page, the server's log or coturn's log; a fingerprint
substituted in the signalling makes both pages refuse the call; quick exit ends a call and leaves
nothing behind while the chat goes on for the counsellor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.browser.conftest import axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.voice_support import (
    CANDIDATES,
    TONE_HZ,
    TURN_SECRET,
    Coturn,
    client_addresses,
    coturn,
    peak_of_microphone,
    peak_of_remote,
    voice_browser,
    write_tone,
)
from tests.integration.test_voice_signalling import voice_calls
from tests.support import ServerProcess, Stack, add_user

# Keeps each RTCPeerConnection and its configuration where the test can read them (through the
# DevTools protocol, which the page's CSP does not govern).
SPY = """(() => {
  const Original = window.RTCPeerConnection;
  window.__voicePeers = []; window.__voiceConfigs = [];
  window.RTCPeerConnection = function (config) {
    const pc = new Original(config);
    window.__voicePeers.push(pc); window.__voiceConfigs.push(JSON.parse(JSON.stringify(config)));
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})();"""

# A man in the middle: the SDP's fingerprint is not the one the other side sealed. The page's own
# receive path is wrapped from outside (voice.js may load after this runs), so nothing ships for tests.
TAMPER = """() => {
  const tamper = (s) => {
    if (s.sdp) s.sdp = s.sdp.replace(/(a=fingerprint:sha-256 )([0-9A-F]{2})/g,
                                     (m, a, b) => a + (b === '00' ? '11' : '00'));
    return s;
  };
  const wrap = (voice) => {
    const receive = voice.Call.prototype.receive;
    voice.Call.prototype.receive = function (signal) { return receive.call(this, tamper(signal)); };
  };
  if (window.HelplineVoice) { wrap(window.HelplineVoice); return; }
  let held;
  Object.defineProperty(window, 'HelplineVoice', {
    configurable: true, get() { return held; }, set(value) { held = value; wrap(value); } });
}"""


@pytest.fixture
def call_setup(tmp_path: Path, stack: Stack,
               start_server: Any) -> Iterator[tuple[Browser, ServerProcess, Coturn]]:
    tone = write_tone(tmp_path / "tone.wav")
    with coturn(tmp_path) as turn, sync_playwright() as playwright:
        server = start_server(HELPLINE_TURN_URL=turn.url, HELPLINE_TURN_SECRET=TURN_SECRET)
        browser = voice_browser(playwright, tone)
        try:
            yield browser, server, turn
        finally:
            browser.close()


def open_chat(browser: Browser, stack: Stack, server: ServerProcess) -> tuple[Page, Page, list[str]]:
    """A child (Albanian) and a counsellor (English) in one chat, each in its own context."""
    password = add_user(stack, "ana")
    contexts: list[BrowserContext] = [browser.new_context(viewport={"width": 360, "height": 760}),
                                      browser.new_context(viewport={"width": 1280, "height": 900})]
    child, counsellor = contexts[0].new_page(), contexts[1].new_page()
    errors: list[str] = []
    for page in (child, counsellor):
        page.add_init_script(SPY)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(counsellor, server, "ana", password)
    child.goto(server.url + "/")
    child.click("#start-chat")
    child.click("#prechat-submit")
    counsellor.locator("button[data-accept]").click()
    expect(child.locator("#counsellor")).not_to_be_empty()
    expect(child.locator("#voice-ask")).to_be_visible()
    return child, counsellor, errors


def child_asks_and_counsellor_answers(child: Page, counsellor: Page) -> None:
    child.click("#voice-ask")
    expect(child.locator("#voice")).to_contain_text("Asgjë nuk regjistrohet")  # nothing is recorded
    expect(child.locator("#voice-disguise")).to_be_checked()  # the disguise is on by default
    panel = counsellor.locator("[data-conv]")
    expect(panel.locator(".voice-state")).to_have_text("The child asks for a voice call.")
    panel.locator(".voice-answer").click()


def test_call_through_coturn_disguises_the_voice_and_hides_the_child(
        call_setup: tuple[Browser, ServerProcess, Coturn], stack: Stack) -> None:
    browser, server, turn = call_setup
    child, counsellor, errors = open_chat(browser, stack, server)
    assert abs(peak_of_microphone(child) - TONE_HZ) < 5  # the fake microphone sends the tone
    child_asks_and_counsellor_answers(child, counsellor)
    talking = "Po flet me këshilltaren ose këshilltarin."
    expect(child.locator("#voice .voice-state")).to_have_text(talking, timeout=20000)
    panel = counsellor.locator("[data-conv]")
    expect(panel.locator(".voice-state")).to_have_text("On a call with the child.", timeout=20000)

    heard = peak_of_remote(counsellor, "[data-conv] .voice-audio")
    assert abs(heard - TONE_HZ) > 40, heard  # the counsellor hears the disguised voice
    assert abs(heard - TONE_HZ * 0.75) < 30, heard
    # Only the helpline's TURN server, relay only, in both pages; the page's policy names no other host.
    headers = child.request.get(server.url + "/").headers
    assert "connect-src 'self';" in headers["content-security-policy"]
    assert "stun:" not in headers["content-security-policy"] and "turn:" not in headers["content-security-policy"]
    assert "microphone=(self)" in headers["permissions-policy"]
    for page in (child, counsellor):
        for config in page.evaluate("() => window.__voiceConfigs"):
            assert config["iceTransportPolicy"] == "relay"
            assert [url for s in config["iceServers"] for url in s["urls"]] == [server_url(stack, page)]
    # The child's address as coturn saw it (the relay candidate's related address) reaches nobody.
    mine = [c for c in child.evaluate(CANDIDATES) if c["kind"] == "local-candidate"]
    assert mine and all(c["type"] == "relay" for c in mine), mine
    theirs = [c for c in counsellor.evaluate(CANDIDATES) if c["kind"] == "remote-candidate"]
    assert theirs and all(c["type"] == "relay" for c in theirs), theirs
    assert axe_violations(child) == [] and axe_violations(counsellor) == []

    panel.locator(".voice-end").click()  # one tap ends it on either side
    expect(child.locator("#messages")).to_contain_text("Thirrja mbaroi.")
    expect(child.locator("#voice")).to_be_hidden()
    expect(panel).to_contain_text("The call has ended.")
    # The logs of the server and of coturn (stopped by the test) name no client's address or port:
    # only the servers' own; and they hold no media and no signalling.
    child.close()
    logs = server.log() + turn.stop()
    own = {server.port, turn.port, *turn.relay, 5432, 6379}  # the services' own ports (tests/support.py)
    assert client_addresses(logs, own) == []
    assert "RIFF" not in logs and "a=fingerprint" not in logs and "sha-256" not in logs
    # The call is a contact of the chat: channel voice, its length (a few seconds here), nothing else.
    # The console reports it after showing that the call ended: wait for the row, not for the text.
    deadline = time.monotonic() + 15
    with ThreadPoolExecutor(1) as pool:
        while not (calls := pool.submit(asyncio.run, voice_calls(stack)).result(30)) and time.monotonic() < deadline:
            time.sleep(0.2)
    assert len(calls) == 1 and 1 <= calls[0][2] < 120, calls
    assert errors == []


def server_url(stack: Stack, page: Page) -> str:
    return str(page.evaluate("() => window.__voiceConfigs[0].iceServers[0].urls[0]"))


def test_a_substituted_fingerprint_makes_both_pages_refuse(
        call_setup: tuple[Browser, ServerProcess, Coturn], stack: Stack) -> None:
    browser, server, _log = call_setup
    child, counsellor, errors = open_chat(browser, stack, server)
    for page in (child, counsellor):
        page.evaluate(TAMPER)
    child_asks_and_counsellor_answers(child, counsellor)
    expect(child.locator("#messages")).to_contain_text("Kjo thirrje nuk ishte e sigurt", timeout=20000)
    panel = counsellor.locator("[data-conv]")
    expect(panel).to_contain_text("its key did not match", timeout=20000)
    expect(child.locator("#voice")).to_be_hidden()
    assert counsellor.evaluate("() => window.__voicePeers.every(pc => pc.connectionState !== 'connected')")
    assert errors == []


def test_quick_exit_ends_the_call_and_the_chat_goes_on_for_the_counsellor(
        call_setup: tuple[Browser, ServerProcess, Coturn], stack: Stack) -> None:
    browser, server, _log = call_setup
    child, counsellor, errors = open_chat(browser, stack, server)
    child_asks_and_counsellor_answers(child, counsellor)
    panel = counsellor.locator("[data-conv]")
    expect(panel.locator(".voice-state")).to_have_text("On a call with the child.", timeout=20000)
    child.click("#quick-exit")
    child.wait_for_url("about:blank")
    expect(panel).to_contain_text("The child left the call.", timeout=15000)
    expect(panel.locator(".presence")).to_have_text("The child is offline.")
    expect(panel.locator("textarea.compose")).to_be_visible()  # the chat goes on
    child.goto(server.url + "/healthz")
    left = child.evaluate("() => [localStorage.length, sessionStorage.length]")
    assert left == [0, 0]
    assert child.evaluate("() => history.length") <= 3
    assert errors == []


def test_a_dropped_call_is_tried_once_more_then_the_chat_goes_on(
        call_setup: tuple[Browser, ServerProcess, Coturn], stack: Stack) -> None:
    browser, server, turn = call_setup
    child, counsellor, errors = open_chat(browser, stack, server)
    child_asks_and_counsellor_answers(child, counsellor)
    panel = counsellor.locator("[data-conv]")
    expect(panel.locator(".voice-state")).to_have_text("On a call with the child.", timeout=20000)
    turn.stop()  # the relay goes away: the connection drops and cannot come back
    expect(child.locator("#voice .voice-state")).to_have_text("Thirrja u ndërpre. Po provojmë përsëri…",
                                                               timeout=30000)
    expect(child.locator("#messages")).to_contain_text("Thirrja u ndërpre. Mund të vazhdosh të shkruash këtu.",
                                                       timeout=40000)
    expect(panel).to_contain_text("The call dropped and could not be restored.", timeout=40000)
    child.fill("#message-input", "A më dëgjon akoma?")  # the text chat never stopped
    child.click("#send-message")
    expect(panel.locator(".messages .from-child")).to_have_text(["A më dëgjon akoma?"])
    assert errors == []
