"""The emergency flow in real Chromium (issue 9, acceptance 1), by keyboard: the counsellor raises
an emergency, every supervisor is alerted within a second, the child is told, the protocol shows,
an emergency referral that shares a detail without consent is refused until a supervisor (another
person) approves, and the audit log names both people and their reasons. Then the debrief."""

from __future__ import annotations

import time

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import Loop, axe_violations
from tests.browser.console_signin import sign_in
from tests.browser.test_console_teamwork import accept, press
from tests.integration.referral_support import cli, member, query
from tests.integration.test_teamwork import audit_rows
from tests.support import ServerProcess, Stack, add_user, run_async


def test_emergency_alert_protocol_and_two_person_rule_in_the_browser(
        stack: Stack, server: ServerProcess, staff_context: BrowserContext, second_context: BrowserContext,
        loop: Loop) -> None:
    cli(stack, "directory", "load")
    run_async(member(stack, "drita", "officer", agency="cpu-shkoder"))
    ana_pw, sara_pw = add_user(stack, "ana"), add_user(stack, "sara", role="supervisor")
    ana, sara = staff_context.new_page(), second_context.new_page()
    errors: list[str] = []
    for page in (ana, sara):
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(sara, server, "sara", sara_pw)
    sign_in(ana, server, "ana", ana_pw)
    child, conv = loop.child(server, stack)
    panel = ana.locator(f'[data-conv="{conv}"]')
    try:
        accept(ana, conv)
        loop.run(child.say("nuk dua të jetoj më"))
        expect(panel.locator(".from-child")).to_have_count(1)

        raised = time.monotonic()
        press(ana, f'[data-conv="{conv}"] button.emergency-button')
        expect(sara.locator("#alerts li.alert-emergency")).to_have_count(1, timeout=1000)
        assert time.monotonic() - raised < 1.5  # within a second, plus the browser's own polling
        loop.run(child.socket.next_event("safety_help"))  # type: ignore[union-attr]
        expect(panel.locator(".emergency .protocol")).to_contain_text("129")
        expect(panel.locator(".emergency-status")).to_contain_text("Every supervisor on duty was alerted")
        expect(panel.locator(".emergency-title")).to_be_focused()
        assert axe_violations(ana) == []

        # The emergency referral: the place is shared without the child's consent, so it waits.
        press(ana, f'[data-conv="{conv}"] button.emergency-referral')
        form = panel.locator("form.referral-form")
        expect(form.locator("select[name=urgency]")).to_have_value("emergency")
        form.locator("select[name=chi_category] option").nth(1).wait_for(state="attached")
        form.locator("select[name=chi_category]").select_option("violence.physical")  # none chosen at first
        form.locator("textarea[name=text-identity]").fill("Arta, 15 vjeç")
        form.locator("select[name=basis-identity]").select_option("child_consented")
        form.locator("textarea[name=text-location]").fill("Shkodër, pranë urës së Bunës")
        form.locator("select[name=basis-location]").select_option("shared_without_consent_for_safety")
        form.locator("textarea[name=requested_action]").fill("Dërgoni dikë tani.")
        form.locator("button[type=submit]").press("Enter")
        expect(form.locator(".referral-error")).to_contain_text("needs a supervisor's approval")
        assert run_async(query(stack, "SELECT count(*) FROM referrals")) == [(0,)]

        disclosure = panel.locator("form.disclosure-form")
        disclosure.locator("input[value=location]").check()
        disclosure.locator("select[name=reason]").select_option("child_life_at_risk")
        disclosure.locator("button[type=submit]").press("Enter")
        expect(disclosure.locator(".disclosure-status")).to_contain_text("Waiting for a supervisor")

        request = sara.locator("#alerts li.alert-disclosure")
        expect(request).to_contain_text("Ana asks to share without consent (Where the child is)")
        assert axe_violations(sara) == []
        request.locator("select").select_option("approve:risk_confirmed")
        press(sara, "#alerts li.alert-disclosure button.decide")
        expect(sara.locator("#alerts li.alert-disclosure")).to_have_count(0)
        expect(disclosure.locator(".disclosure-status")).to_contain_text("Sara approved sharing without consent")

        form.locator("button[type=submit]").press("Enter")
        expect(panel.locator(".referral-sent")).to_be_visible()

        # The supervisor checks on the counsellor afterwards: one answer, kept as a number.
        press(sara, '#views button[data-view="supervise"]')
        sara.locator("#debrief-counsellor").select_option(label="Ana")
        sara.locator("#debrief-form input[value=shaken]").check()
        press(sara, "#debrief-form button[type=submit]")
        expect(sara.locator("#debrief-status")).to_contain_text("Recorded")
        assert axe_violations(sara) == []
    finally:
        loop.close([child])

    assert errors == []
    rows = audit_rows(stack)
    people = {action: (subject, detail) for action, subject, detail in rows
              if action in ("disclosure.asked", "disclosure.approved", "disclosure.used")}
    assert set(people) == {"disclosure.asked", "disclosure.approved", "disclosure.used"}
    approved = people["disclosure.approved"][1]
    assert approved["reason"] == "risk_confirmed" and approved["asked_reason"] == "child_life_at_risk"
    actor_of = {action: actor for action, actor in run_async(query(
        stack, "SELECT action, actor FROM audit_log WHERE action LIKE 'disclosure.%'"))}
    assert actor_of["disclosure.asked"] == approved["asked_by"] != actor_of["disclosure.approved"]
    assert run_async(query(stack, "SELECT urgency, consent FROM referrals"))[0][0] == "emergency"
    assert run_async(query(stack, "SELECT wellbeing FROM debriefs")) == [("shaken",)]
