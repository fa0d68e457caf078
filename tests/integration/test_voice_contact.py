"""A voice call is a contact of its chat (issue 24): the case timeline shows it, channel voice, with
its length and nothing else."""

from __future__ import annotations

from helpline import crypto
from tests.integration.test_casework import record_chat, wrap_for
from tests.integration.test_chat_e2e import open_chat
from tests.integration.test_teamwork import api, card
from tests.support import ServerProcess, Stack, add_user, run_async


def test_a_voice_call_shows_in_the_case_timeline(stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "ana")

    async def scenario() -> None:
        child, ana, conv = await open_chat(server, stack, password)
        await ana.command({"type": "voice_record", "conv": conv, "call": "c4llIdAbCdEf", "seconds": 185})
        await ana.end(conv)
        ana_card = await card(ana, ana)
        record, note_key = await record_chat(ana, conv, "Folëm me zë.", [ana_card])
        case_key = crypto.new_conversation_key()
        opened = await api(ana, "POST", "/console/api/casework", {
            "record": record, **wrap_for(case_key, [ana_card]), "case_note_key": crypto.seal(case_key, note_key)})
        assert opened.status_code == 201, opened.text
        view = (await api(ana, "GET", f"/console/api/casework/{opened.json()['case']}")).json()
        calls = view["contacts"][0]["voice_calls"]
        assert [(c["channel"], c["seconds"]) for c in calls] == [("voice", 185)]
        await child.close()
        await ana.close()

    run_async(scenario())
