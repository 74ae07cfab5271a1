"""`idstore demo`: enrol an authenticator app against a running service, step by step.

A client of the public API like any other: it exchanges the API key for a token, makes (or
reuses) a store and a user, shows the registration's QR code in the terminal, asks for the codes
the phone shows, and ends with the user's audit trail. Every refusal is shown with the contract's
code and message and what to do; a run that does not reach the end exits non-zero.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from idstore.cli import BOOTSTRAP_KEY_FILE
from idstore.otp import qr_text

DEMO_STORE = "demo"
DEFAULT_PORT = 8080
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
POLICY = "default"
CODE_ATTEMPTS = 3  # under the default lock threshold (5): the demo never locks its user
AUDIT_ROWS = 20
MAX_EXTERNAL_ID_LENGTH = 255
STORES = "/api/identity-store/stores"

# Refusals a person fixes by typing another code; any other one ends the demo.
RETRYABLE_CODES = frozenset({3400, 3401, 3402})

REMEDIES = {
    9003: "pass the API key the service printed at its first start with --api-key, or run the "
    "demo where the service keeps its data directory (data/bootstrap-api-key)",
    9004: "use an API key of tenant 'default' with the permission TNT#default#IdentityStore:*",
    9010: "the service's database is unavailable; try again in a moment",
    9099: "the service failed unexpectedly; its log has a line with this request id",
    2100: "the user is locked after too many wrong codes; wait, or unlock it through the API",
    2101: "too many wrong codes locked this authenticator; wait (5 min by default) and try again",
    3302: "the registration expired before it was completed; run the demo again",
    3400: "type exactly the digits your app shows",
    3401: "check that the app entry is the one just added and that the phone's clock is right",
    3402: "that code was used already; wait until the app shows the next one",
}
DEFAULT_REMEDY = "the message says what the service refused; the API is described at /docs"


@dataclass(frozen=True)
class Console:
    """The terminal: `ask` shows a prompt and returns the line typed, `say` and `warn` print."""

    ask: Callable[[str], str]
    say: Callable[[str], None]
    warn: Callable[[str], None]


class DemoFailed(Exception):
    """A step the demo cannot get past: what went wrong and what to do about it."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.remedy = remedy


class ServiceRefused(DemoFailed):
    """The service answered with a contract error (`error_code`, the body's `code`)."""

    def __init__(self, response: httpx.Response) -> None:
        body = _json_object(response)
        self.error_code: int | None = body.get("code")
        if self.error_code is None:
            super().__init__(
                f"{response.url} answered HTTP {response.status_code} without an error code",
                f"check that --url names an idstore service (make run serves {DEFAULT_URL})",
            )
            return
        where = f"HTTP {response.status_code}, request {body.get('requestId', '?')}"
        super().__init__(
            f"error {self.error_code}: {body.get('message', response.reason_phrase)} ({where})",
            REMEDIES.get(self.error_code, DEFAULT_REMEDY),
        )


@dataclass
class Service:
    """The API over one HTTP client; transport failures and refusals become DemoFailed."""

    client: httpx.Client

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request and return its JSON body. Raises ServiceRefused or DemoFailed."""
        try:
            response = self.client.request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise DemoFailed(
                f"cannot reach the service at {self.client.base_url} ({type(exc).__name__})",
                f"start it with `{_run_command(self.client.base_url.port)}` in another terminal "
                "(or pass --url), then run the demo again",
            ) from exc
        if response.is_error:
            raise ServiceRefused(response)
        return _json_object(response)


@dataclass(frozen=True)
class Enrolment:
    """Where the demo user's TOTP lives."""

    store: str
    user_id: str
    external_id: str

    def url(self, suffix: str) -> str:
        return (
            f"{STORES}/{quote(self.store, safe='')}/users/{quote(self.user_id, safe='')}/{suffix}"
        )


def run_demo(
    *, url: str, api_key: str | None, data_dir: Path, console: Console, store: str = DEMO_STORE
) -> int:
    """Walk a person through enrolment and sign-in; 0 when both succeeded, 1 otherwise."""
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            service = Service(client)
            service.call("GET", "/health/live")
            key = api_key or _read_bootstrap_key(data_dir)
            _walk_through(service, console, key=key, store=store)
    except DemoFailed as failure:
        console.warn(f"idstore demo: {failure.problem}")
        console.warn(f"What to do: {failure.remedy}")
        return 1
    except (EOFError, KeyboardInterrupt):
        console.warn("idstore demo: stopped before the end; run it again to start over")
        return 1
    return 0


def _walk_through(service: Service, console: Console, *, key: str, store: str) -> None:
    _sign_in_as_caller(service, key)
    console.say(f"Connected to {service.client.base_url}.")

    policy = _ensure_store(service, console, store)
    enrolment = _ensure_user(service, console, store)
    registration = _start_registration(service, console, enrolment)
    _show_registration(console, registration)

    completion = _submit_codes(
        service, console, enrolment.url(f"totps/registrations/{POLICY}/complete"), "Code: "
    )
    console.say(f"Registered: audit record {completion['authenticationId']}.")
    console.say(
        f"\nNow sign in. Wait until your app shows a new code (a code works once; a new one "
        f"comes every {policy['period']} s), then type it."
    )
    signed_in = _submit_codes(
        service, console, enrolment.url(f"totps/authentications/{POLICY}"), "Next code: "
    )
    console.say(f"Signed in: audit record {signed_in['authenticationId']}.")

    _show_audit_trail(service, console, enrolment)
    console.say(
        f"\nDone. '{enrolment.external_id}' has an active TOTP in store '{store}'. "
        f"The whole API is described at {service.client.base_url}/docs."
    )


def _read_bootstrap_key(data_dir: Path) -> str:
    path = data_dir / BOOTSTRAP_KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DemoFailed(
            f"no API key: cannot read {path} ({exc.strerror})",
            "pass --api-key with the key the service printed at its first start, or run the "
            "demo from the directory `make run` runs in (or set IDSTORE_DATA_DIR)",
        ) from exc
    if not key:
        raise DemoFailed(f"no API key: {path} is empty", "pass --api-key")
    return key


def _sign_in_as_caller(service: Service, key: str) -> None:
    issued = service.call("POST", "/api/arthr/apiKeys/issue", headers={"X-Api-Key": key})
    if "token" not in issued:
        raise DemoFailed(
            f"{service.client.base_url} issued no token for the API key",
            f"check that --url names an idstore service (make run serves {DEFAULT_URL})",
        )
    service.client.headers["Authorization"] = f"Bearer {issued['token']}"


def _ensure_store(service: Service, console: Console, store: str) -> dict[str, Any]:
    """The store's TOTP policy `default`, made with all defaults when missing."""
    store_url = f"{STORES}/{quote(store, safe='')}"
    try:
        found = service.call("GET", store_url)
    except ServiceRefused as refusal:
        if refusal.error_code != 3000:
            raise
        body = {"name": store, "configuration": {"totpPolicies": {POLICY: {}}}}
        found = service.call("POST", STORES, json=body)
        console.say(f"Created store '{store}' with TOTP policy '{POLICY}' (all defaults).")
        return _policy_of(found)

    if POLICY not in found["configuration"].get("totpPolicies", {}):
        service.call("POST", f"{store_url}/totpPolicy", json={"name": POLICY})
        found = service.call("GET", store_url)
        console.say(f"Using store '{store}'; added TOTP policy '{POLICY}' (all defaults).")
    else:
        console.say(f"Using store '{store}' and its TOTP policy '{POLICY}'.")
    return _policy_of(found)


def _policy_of(store: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = store["configuration"]["totpPolicies"][POLICY]
    return policy


def _ensure_user(service: Service, console: Console, store: str) -> Enrolment:
    """Ask for a name; create that user, or reuse the one of an earlier run."""
    name = _ask_name(console)
    users_url = f"{STORES}/{quote(store, safe='')}/users"
    try:
        user = service.call("POST", users_url, json={"externalId": name})
        console.say(f"Created user '{name}'.")
    except ServiceRefused as refusal:
        if refusal.error_code != 3101:
            raise
        user = service.call("GET", f"{users_url}/{quote(name, safe='')}/ext")
        console.say(f"Using the existing user '{name}'.")
    return Enrolment(store=store, user_id=user["id"], external_id=name)


def _ask_name(console: Console) -> str:
    default = _login_name()
    while True:
        name = console.ask(f"Name of the demo user [{default}]: ").strip() or default
        # The name becomes the account label in the app, where ':' separates issuer and name.
        if ":" not in name and len(name) <= MAX_EXTERNAL_ID_LENGTH:
            return name
        console.warn(f"Please choose a name without ':' of at most {MAX_EXTERNAL_ID_LENGTH} chars.")


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "demo-user"


def _start_registration(service: Service, console: Console, enrolment: Enrolment) -> dict[str, Any]:
    """A new pending registration; an earlier run's active TOTP is replaced if the person agrees."""
    url = enrolment.url(f"totps/registrations/{POLICY}")
    try:
        return service.call("POST", url)
    except ServiceRefused as refusal:
        if refusal.error_code != 3301:
            raise
    answer = console.ask(
        f"'{enrolment.external_id}' already has an authenticator for policy '{POLICY}'. Replace "
        "it? Its entry in your app stops working. [Y/n] "
    )
    if answer.strip().lower() not in ("", "y", "yes"):
        raise DemoFailed(
            f"'{enrolment.external_id}' keeps its authenticator", "run the demo with another name"
        )
    service.call("POST", enrolment.url(f"totps/deregistrations/{POLICY}"))
    return service.call("POST", url)


def _show_registration(console: Console, registration: dict[str, Any]) -> None:
    totp = registration["totp"]
    console.say(
        "\nScan this QR code with your authenticator app (Google Authenticator, Aegis, "
        "FreeOTP, 1Password...):\n"
    )
    console.say(qr_text(registration["otpauthUri"]))
    console.say(
        "\nCannot scan it (a light terminal background can hide it)? Add the entry by hand:\n"
        f"  Account:    {totp['issuer']}: {totp['username']}\n"
        f"  Secret:     {registration['secret']}\n"
        f"  Settings:   {totp['algorithm']}, {totp['digits']} digits, every {totp['period']} s\n"
        f"  URI:        {registration['otpauthUri']}\n"
        f"\nType the {totp['digits']}-digit code your app shows for this entry."
    )


def _submit_codes(service: Service, console: Console, url: str, prompt: str) -> dict[str, Any]:
    """Ask for a code and send it, again after a wrong one, at most CODE_ATTEMPTS times."""
    for _ in range(CODE_ATTEMPTS):
        code = console.ask(prompt).strip()
        try:
            return service.call("POST", url, json={"code": code})
        except ServiceRefused as refusal:
            if refusal.error_code not in RETRYABLE_CODES:
                raise
            console.warn(f"{refusal.problem}\n  What to do: {refusal.remedy}")
    raise DemoFailed(
        f"no code was accepted in {CODE_ATTEMPTS} attempts",
        "check the app entry and the phone's clock, then run the demo again",
    )


def _show_audit_trail(service: Service, console: Console, enrolment: Enrolment) -> None:
    page = service.call(
        "GET",
        enrolment.url("authentications"),
        params={"size": AUDIT_ROWS, "sort": "createdDtm,desc"},
    )
    records = [item["authAuditRecord"] for item in reversed(page["content"])]
    console.say(f"\nAudit trail of '{enrolment.external_id}' (every attempt, oldest first):\n")
    console.say(_table(("when", "type", "policy", "result", "error"), [_row(r) for r in records]))
    earlier = page["totalElements"] - len(records)
    if earlier > 0:
        console.say(f"({earlier} earlier records not shown)")


def _row(record: dict[str, Any]) -> tuple[str, ...]:
    policy = record.get("totpInfo", {}).get("policyName", "")
    error = str(record.get("errorCode", ""))
    return (record["createdDtm"], record["type"], policy, record["result"], error)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(line[column]) for line in (header, *rows)) for column in range(len(header))]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _run_command(port: int | None) -> str:
    """The `make run` that serves on `port` (the default needs no setting)."""
    if port is None or port == DEFAULT_PORT:
        return "make run"
    return f"IDSTORE_PORT={port} make run"
