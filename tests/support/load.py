"""A steady load of TOTP authentications over server processes, and what must hold after it.

Threads send right codes for some users and wrong codes for others, round robin over the routes
the test leaves open (as a load balancer would), and keep every answer, or its absence, as an
Outcome. A request that got no answer (its server was killed, say) is in doubt: its transaction
may or may not have committed, so the checks allow for it, and for nothing else.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
import pyotp

from tests.support.api import unique
from tests.support.wrong_codes import wrong_code

STORES = "/api/identity-store/stores"
# Codes of up to ten steps either side are accepted, so a user takes many right codes in a row
# without the test waiting for time to pass. The thresholds are the highest a store takes; a
# long load on a fast machine can still reach them, and the checks allow for the lock.
POLICY = {"driftSteps": 10}
USER_LOCK_THRESHOLD = 1000
LOCKING = {"modalityLockThreshold": 1000, "userLockThreshold": USER_LOCK_THRESHOLD}
REQUEST_TIMEOUT_SECONDS = 30
# Server settings for a load test: no per-user or per-caller rate limit in the way.
UNLIMITED = {"IDSTORE_USER_ATTEMPT_BURST": "0", "IDSTORE_CALLER_REQUESTS_PER_SECOND": "0"}


@dataclass
class Account:
    """A user with an active TOTP; `next_step` is the lowest step not yet sent."""

    store: str
    user_id: str
    totp: pyotp.TOTP
    next_step: int

    @property
    def user_url(self) -> str:
        return f"{STORES}/{self.store}/users/{self.user_id}"

    def take_step(self, now: float) -> int | None:
        """The next step to send a right code for, or None while it would leave the window."""
        current = int(now) // 30
        step = max(self.next_step, current - POLICY["driftSteps"] + 1)
        if step > current + POLICY["driftSteps"] - 1:
            return None
        self.next_step = step + 1
        return step

    def wrong_code(self) -> str:
        # Two steps wider than the policy's window: a request may take that long to arrive.
        return wrong_code(self.totp, steps=POLICY["driftSteps"] + 2)


@dataclass(frozen=True)
class Outcome:
    """One request: where it went, for which user, what came back (None: no answer) and when."""

    route: str
    user_id: str
    step: int | None  # the time step of a right code; None for a wrong code
    status: int | None
    error_code: int | None
    authentication_id: str | None
    sent_at: float
    seconds: float


def enrol(client: httpx.Client, store: str) -> Account:
    """A new user of the store with an active TOTP of policy `p`, completed with pyotp's code."""
    user = client.post(f"{STORES}/{store}/users", json={"externalId": unique("user")})
    assert user.status_code == 201, user.text
    user_url = f"{STORES}/{store}/users/{user.json()['id']}"
    started = client.post(f"{user_url}/totps/registrations/p?qrFormat=none")
    assert started.status_code == 201, started.text
    account = Account(store, user.json()["id"], pyotp.TOTP(started.json()["secret"]), 0)
    step = account.take_step(time.time())
    assert step is not None
    completion = client.post(
        f"{user_url}/totps/registrations/p/complete", json={"code": account.totp.at(step * 30)}
    )
    assert completion.status_code == 200, completion.text
    return account


def new_store(client: httpx.Client) -> str:
    store = unique("load")
    configuration = {"userLocking": LOCKING, "totpPolicies": {"p": POLICY}}
    created = client.post(STORES, json={"name": store, "configuration": configuration})
    assert created.status_code == 201, created.text
    return store


@dataclass
class Load:
    """Threads sending authentications until stopped; `routes` may change while they run."""

    routes: list[str]
    token: str
    right: list[list[Account]]  # one list of accounts per right-code thread
    wrong: list[Account]  # each gets two threads, so that they contend for its row
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _turn: Iterator[int] = field(default_factory=count)

    def answered(self, route: str | None = None) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if route in (None, o.route)]

    def wait_for(
        self,
        answers: int,
        *,
        route: str | None = None,
        sent_after: float | None = None,
        timeout: float = 180,
    ) -> None:
        """Block until `answers` more requests than now have been answered (on `route`), or,
        with `sent_after` (monotonic), until `answers` sent after it have; and every user has
        had an answer of the kind its thread sends (200 or 3401) by then."""
        since = -math.inf if sent_after is None else sent_after
        target = answers if sent_after is not None else self._count(route, since) + answers
        deadline = time.monotonic() + timeout
        while not self._has_answered(target, route, since):
            assert time.monotonic() < deadline, f"the load did not get {answers} answers"
            time.sleep(0.05)  # polling the threads' progress, not waiting on a time-based rule

    def _count(self, route: str | None, since: float) -> int:
        return len([o for o in self.answered(route) if o.status is not None and o.sent_at > since])

    def _has_answered(self, target: int, route: str | None, since: float) -> bool:
        if self._count(route, since) < target:
            return False
        outcomes = self.answered()
        # SQLite's busy wait is not fair: one thread's requests may wait while others go on.
        served = {o.user_id for o in outcomes if o.status == 200 or o.error_code == 3401}
        users = [account for accounts in self.right for account in accounts] + self.wrong
        return all(account.user_id in served for account in users)

    def wait_for_success(self, *, sent_after: float, timeout: float = 120) -> None:
        """Block until a request sent after `sent_after` (monotonic) has been accepted."""
        deadline = time.monotonic() + timeout
        while not any(o.status == 200 and o.sent_at > sent_after for o in self.answered()):
            assert time.monotonic() < deadline, f"no code accepted within {timeout} s"
            time.sleep(0.05)  # polling the threads' progress, not waiting on a time-based rule

    def close_route(self, route: str) -> None:
        """Send no more requests to `route`, as a load balancer does once a server is gone."""
        with self._lock:
            self.routes.remove(route)

    def _route(self) -> str:
        with self._lock:
            return self.routes[next(self._turn) % len(self.routes)]

    def _send(self, client: httpx.Client, account: Account, step: int | None) -> None:
        route = self._route()
        code = account.wrong_code() if step is None else account.totp.at(step * 30)
        url = f"{route}{account.user_url}/totps/authentications/p"
        sent_at = time.monotonic()
        status: int | None = None
        body: dict[str, Any] = {}
        retry_after = 0.0
        try:
            answer = client.post(url, json={"code": code})
            status, body = answer.status_code, answer.json()
            retry_after = float(answer.headers.get("Retry-After", 0))
        except httpx.TransportError:
            pass  # no answer: the request is in doubt
        outcome = Outcome(
            route, account.user_id, step, status, body.get("code"), body.get("authenticationId"),
            sent_at, time.monotonic() - sent_at,
        )  # fmt: skip
        with self._lock:
            self.outcomes.append(outcome)
        time.sleep(min(retry_after, 2.0))  # as a careful client does after a 503

    def _right_codes(self, accounts: list[Account]) -> Callable[[httpx.Client], None]:
        def send_one(client: httpx.Client) -> None:
            for index, account in enumerate(accounts):
                step = account.take_step(time.time())
                if step is not None:
                    accounts.append(accounts.pop(index))  # the others' turn comes first next time
                    self._send(client, account, step)
                    return
            time.sleep(0.5)  # every user's window is used up; it moves on within 30 s

        return send_one

    def _wrong_codes(self, account: Account) -> Callable[[httpx.Client], None]:
        return lambda client: self._send(client, account, None)

    def _loop(self, send_one: Callable[[httpx.Client], None]) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(headers=headers, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            while not self._stop.is_set():
                send_one(client)

    @contextmanager
    def running(self) -> Iterator[Load]:
        """Run the threads for the duration of the block; join them at its end."""
        senders = [self._right_codes(accounts) for accounts in self.right]
        senders += [self._wrong_codes(account) for account in self.wrong for _ in range(2)]
        threads = [threading.Thread(target=self._loop, args=(send,)) for send in senders]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join()
