"""A wrong TOTP code that is wrong for sure: a fixed code is right about once in 10^6 tries
per step of the server's window, which a suite sending many of them over many CI runs meets."""

from __future__ import annotations

import time

import pyotp

CANDIDATES = ("000000", "111111", "222222")


def wrong_code(totp: pyotp.TOTP, *, steps: int) -> str:
    """A code unlike the TOTP's codes of `steps` steps either side of now: wrong for a server
    whose window is narrower than that by the steps a request may take to reach it."""
    window = {totp.at(time.time() + totp.interval * shift) for shift in range(-steps, steps + 1)}
    return next(code for code in CANDIDATES if code not in window)
