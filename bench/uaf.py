"""CPU cost of the UAF layer per ceremony: `.venv/bin/python -m bench.uaf [--rounds N]`.

Times, in one process, what a server does with a client response: read (JSON, base64url, TLV),
check (app id, facet, challenge, final challenge hash, attestation chain) and verify the
signature, for each key kind of the software authenticator. No I/O, no database.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable

from tests.support.uaf_authenticator import SoftwareUafAuthenticator
from tests.support.uaf_keys import KeyKind
from tests.uaf.conftest import (
    FACET_ID,
    authenticate,
    authentication_request,
    check_registration,
    new_challenge,
    register,
    registration_request,
)


def _median_microseconds(call: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=500)
    rounds = parser.parse_args().rounds

    print(f"{'key kind':<18} {'registration (BASIC_FULL)':>26} {'authentication':>16}")
    for kind in KeyKind:
        authenticator = SoftwareUafAuthenticator(kind=kind)
        challenge = new_challenge()
        registration = authenticator.register(registration_request(challenge), FACET_ID)
        registered = register(authenticator)
        auth_challenge = new_challenge()
        authentication = authenticator.authenticate(
            authentication_request(auth_challenge), FACET_ID, key_id=registered.key.key_id
        )

        reg_us = _median_microseconds(
            functools.partial(check_registration, authenticator, registration, challenge), rounds
        )
        auth_us = _median_microseconds(
            functools.partial(authenticate, registered, authentication, auth_challenge), rounds
        )
        print(f"{kind.name:<18} {reg_us:>23.0f} us {auth_us:>13.0f} us")
    print(f"median of {rounds} rounds each (read, check and verify one client response)")


if __name__ == "__main__":
    main()
