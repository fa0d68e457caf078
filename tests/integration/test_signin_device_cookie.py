"""Device cookies (issue 17): a stranger who knows a username can lock that account for unknown
browsers, never for a browser that has completed a full sign-in before; a forged, altered or
foreign device cookie is worth nothing; a trusted browser's own failures lock only that browser."""

from __future__ import annotations

import httpx

from helpline.security import devices
from tests.chat_client import StaffClient, next_totp_code, signin_body
from tests.support import ServerProcess, Stack, add_user


def browser(server: ServerProcess) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"origin": server.url}, timeout=30)


async def password_step(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/console/api/login?lang=en", json=await signin_body(http, username, password))


async def full_sign_in(http: httpx.AsyncClient, username: str, password: str, code: str) -> httpx.Response:
    """Password, then a TOTP or recovery code; the answer of the second step (or of the first)."""
    first = await password_step(http, username, password)
    if first.status_code != 200:
        return first
    return await http.post("/console/api/mfa/verify?lang=en", headers={"x-csrf-token": first.json()["csrf"]},
                           json={"code": code})


def device_cookie(http: httpx.AsyncClient) -> str:
    return next(c.value for c in http.cookies.jar if c.name == devices.COOKIE_NAME and c.value)


async def test_strangers_lock_out_strangers_but_not_the_browser_that_signed_in_before(
        stack: Stack, server: ServerProcess) -> None:
    password = add_user(stack, "dee")
    eve_password = add_user(stack, "eve")
    dee = StaffClient(server.url, "dee", password)
    await dee.sign_in()  # enrols TOTP; its recovery codes sign in the browsers below
    assert dee.totp_secret
    codes = iter(dee.recovery_codes)
    eve = StaffClient(server.url, "eve", eve_password)
    await eve.sign_in()

    async with browser(server) as trusted, browser(server) as other, browser(server) as stranger, \
            browser(server) as eves:
        # Two of dee's browsers complete a sign-in and are given device cookies.
        for http in (trusted, other):
            done = await full_sign_in(http, "dee", password, next(codes))
            assert done.status_code == 200, done.text
        cookie = device_cookie(trusted)
        set_cookie = [h for h in done.headers.get_list("set-cookie") if h.startswith(devices.COOKIE_NAME + "=")]
        assert set_cookie and "HttpOnly" in set_cookie[0] and "SameSite=strict" in set_cookie[0]
        assert "dee" not in cookie
        assert (await full_sign_in(eves, "eve", eve_password, eve.recovery_codes[0])).status_code == 200

        # A stranger's guesses lock the account for strangers, even with the right password.
        answers = [(await password_step(stranger, "dee", f"guess-{i}")).status_code for i in range(5)]
        assert answers == [401, 401, 401, 401, 423], answers
        assert (await password_step(stranger, "dee", password)).status_code == 423

        # The browser that signed in before still signs in with the right password and code.
        done = await full_sign_in(trusted, "dee", password, await next_totp_code(dee.totp_secret))
        assert done.status_code == 200, done.text
        cookie = device_cookie(trusted)

        # Forged or foreign device cookies are not trusted: the lock holds for them.
        nonce, mac = cookie.split(".")
        altered = nonce + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
        other_nonce = ("A" if nonce[0] != "A" else "B") + nonce[1:]
        foreign = device_cookie(eves)  # a real cookie, stolen from eve's browser
        for fake in (altered, other_nonce + "." + mac, foreign, "x", cookie + "x"):
            async with browser(server) as forger:
                forger.cookies.set(devices.COOKIE_NAME, fake, path=devices.COOKIE_PATH)
                refused = await password_step(forger, "dee", password)
                assert refused.status_code == 423, (fake, refused.text)

        # A trusted browser's own failures count against its cookie only: it locks itself ...
        answers = [(await password_step(other, "dee", f"typo-{i}")).status_code for i in range(5)]
        assert answers == [401, 401, 401, 401, 423], answers
        assert (await password_step(other, "dee", password)).status_code == 423
        # ... and the first trusted browser is not touched by that either.
        again = await full_sign_in(trusted, "dee", password, next(codes))
        assert again.status_code == 200, again.text
        assert "Traceback" not in server.log()
