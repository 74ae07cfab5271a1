"""`idstore demo` against the live server, with a scripted person at the keyboard.

The person reads the secret and the otpauth URI the demo prints and computes its codes with
pyotp at the server's (manual) clock; the server's audit records are the proof of what happened.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from idstore.cli import main
from idstore.demo import Console, run_demo
from tests.support.api import Api, code_at, unique
from tests.support.clock import ManualClock
from tests.support.server import LiveServer

# A fixed instant 10 s into a 30 s time step: the codes do not depend on when the test runs, and
# the one-second pauses of a person typing stay within the step.
START = 1_750_000_000


@dataclass
class ScriptedPerson:
    """Answers the demo's prompts the way a person with an authenticator app does.

    `plan` says what to type at each code prompt: "now" (the app's current code), "later" (wait
    for the next time step, then its code), "again" (the code typed last), "wrong" (a typo).
    """

    clock: ManualClock
    name: str
    plan: list[str] = field(default_factory=lambda: ["now", "later"])
    replace: str = ""
    transcript: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)

    def console(self) -> Console:
        return Console(ask=self.ask, say=self.transcript.append, warn=self.warnings.append)

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if prompt.startswith("Name of the demo user"):
            return self.name
        if "Replace it?" in prompt:
            return self.replace
        if not self.plan:
            raise EOFError  # the person has nothing more to type, as when stdin ends
        self.typed.append(self._code(self.plan.pop(0)))
        return self.typed[-1]

    def _code(self, action: str) -> str:
        uri = re.findall(r"URI:\s+(otpauth://\S+)", "\n".join(self.transcript))[-1]
        query = {name: values[0] for name, values in parse_qs(urlsplit(uri).query).items()}
        # Typing takes a second: every attempt has its own audit time, so their order is certain.
        self.clock.advance(1)
        if action == "again":
            return self.typed[-1]
        if action == "later":
            self.clock.advance(int(query["period"]))
        period = int(query["period"])

        def code_in(steps: int) -> str:
            return code_at(
                query["secret"],
                self.clock.timestamp() + steps * period,
                digits=int(query["digits"]),
                period=period,
                algorithm=query["algorithm"],
            )

        code = code_in(0)
        if action == "wrong":
            # A typo in the last digit, unless that is a neighbouring step's code (the window
            # accepts those): about 2 runs in 10^6 would otherwise type a right "wrong" code.
            window = {code_in(steps) for steps in range(-2, 3)}
            typos = (code[:-1] + str((int(code[-1]) + shift) % 10) for shift in range(1, 10))
            return next(typo for typo in typos if typo not in window)
        return code


def audit_trail(api: Api, store: str, external_id: str) -> list[tuple[str, int | None]]:
    """(result, errorCode) of every audit record of the user, oldest first."""
    user = {"externalId": external_id}
    response = api.client.get(api.user_url(store, user, "authentications", ext=True))
    assert response.status_code == 200, response.text
    records = [item["authAuditRecord"] for item in response.json()["content"]]
    return [(record["result"], record.get("errorCode")) for record in records]


def printed_table(transcript: list[str]) -> list[list[str]]:
    """The rows (type, policy, result, error) of the audit table the demo printed last."""
    table = [text for text in transcript if text.lstrip().startswith("when")][-1]
    return [line.split()[1:] for line in table.splitlines()[2:]]


def demo(server: LiveServer, person: ScriptedPerson, store: str, **options: Any) -> int:
    arguments: dict[str, Any] = {"url": server.base_url, "api_key": server.api_key}
    arguments.update(options)
    return run_demo(
        data_dir=arguments.pop("data_dir", Path("no-such-dir")),
        console=person.console(),
        store=store,
        **arguments,
    )


@pytest.fixture
def person(clock: ManualClock) -> ScriptedPerson:
    clock.set(START)
    return ScriptedPerson(clock, name=unique("person"))


def test_the_demo_enrols_signs_in_and_shows_both_successes_in_the_audit(
    server: LiveServer, api: Api, person: ScriptedPerson
) -> None:
    store = unique("store")

    exit_status = demo(server, person, store)

    assert (exit_status, person.warnings) == (0, [])
    assert audit_trail(api, store, person.name) == [("SUCCESS", None), ("SUCCESS", None)]
    assert printed_table(person.transcript) == [["TOTP", "default", "SUCCESS"]] * 2
    created = api.client.get(api.store_url(store)).json()["configuration"]["totpPolicies"]
    assert (created["default"]["algorithm"], created["default"]["digits"]) == ("SHA1", 6)


def scan_terminal_qr_code(text: str, folder: Path) -> str:
    """What zbarimg reads from a QR code drawn in half blocks (a block is a light module)."""
    if shutil.which("zbarimg") is None:
        pytest.fail("this test reads QR codes with zbarimg: apt-get install zbar-tools")
    rows: list[list[bool]] = []
    for line in text.split("\n"):
        rows.append([char in "█▀" for char in line])
        rows.append([char in "█▄" for char in line])
    # A plain PBM image, 4 pixels per module; in PBM 1 is black (a dark module).
    pixels = [
        " ".join("0" if is_light else "1" for is_light in row for _ in range(4)) for row in rows
    ]
    image = folder / "terminal-qr.pbm"
    header = f"P1\n{len(rows[0]) * 4} {len(rows) * 4}\n"
    image.write_text(header + "\n".join(line for line in pixels for _ in range(4)) + "\n")
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"zbarimg read no QR code: {result.stderr}"
    return result.stdout.removesuffix("\n")


def test_the_demo_prints_a_terminal_qr_code_of_the_otpauth_uri_it_prints(
    server: LiveServer, person: ScriptedPerson, tmp_path: Path
) -> None:
    store = unique("store")

    assert demo(server, person, store) == 0

    output = "\n".join(person.transcript)
    uri = re.findall(r"URI:\s+(otpauth://\S+)", output)[0]
    secret = re.findall(r"Secret:\s+([A-Z2-7]+)", output)[0]
    drawing = next(text for text in person.transcript if text.startswith("█"))
    assert scan_terminal_qr_code(drawing, tmp_path) == uri
    assert uri.startswith(f"otpauth://totp/{store}:{quote(person.name)}?")
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]


def test_the_demo_reuses_a_store_and_adds_the_default_policy_it_lacks(
    server: LiveServer, api: Api, person: ScriptedPerson
) -> None:
    store = api.create_store()["name"]

    exit_status = demo(server, person, store)

    assert (exit_status, person.warnings) == (0, [])
    policies = api.client.get(api.store_url(store)).json()["configuration"]["totpPolicies"]
    assert list(policies) == ["default"]
    assert audit_trail(api, store, person.name) == [("SUCCESS", None), ("SUCCESS", None)]


def test_a_second_run_for_the_same_user_replaces_its_authenticator_when_agreed(
    server: LiveServer, api: Api, person: ScriptedPerson, clock: ManualClock
) -> None:
    store = unique("store")
    assert demo(server, person, store) == 0

    again = ScriptedPerson(clock, name=person.name, replace="")  # Enter: the default, yes
    exit_status = demo(server, again, store)

    assert (exit_status, again.warnings) == (0, [])
    assert any("Replace it?" in prompt for prompt in again.prompts)
    assert audit_trail(api, store, person.name) == [("SUCCESS", None)] * 4
    user = api.client.get(api.user_url(store, {"externalId": person.name}, ext=True)).json()
    assert [totp["status"] for totp in user["summaryInfo"]["totps"]] == ["ACTIVE"]


def test_a_second_run_keeps_the_authenticator_and_fails_when_replacing_is_refused(
    server: LiveServer, api: Api, person: ScriptedPerson, clock: ManualClock
) -> None:
    store = unique("store")
    assert demo(server, person, store) == 0

    again = ScriptedPerson(clock, name=person.name, replace="n")
    exit_status = demo(server, again, store)

    assert exit_status == 1
    assert "keeps its authenticator" in again.warnings[0]
    assert audit_trail(api, store, person.name) == [("SUCCESS", None)] * 2


def test_a_wrong_code_is_shown_with_3401_and_asked_for_again(
    server: LiveServer, api: Api, person: ScriptedPerson
) -> None:
    store = unique("store")
    person.plan = ["wrong", "now", "later"]

    exit_status = demo(server, person, store)

    assert exit_status == 0
    assert person.warnings[0].startswith("error 3401: ")
    assert "What to do:" in person.warnings[0]
    assert audit_trail(api, store, person.name) == [
        ("FAILURE", 3401),
        ("SUCCESS", None),
        ("SUCCESS", None),
    ]
    assert printed_table(person.transcript) == [
        ["TOTP", "default", "FAILURE", "3401"],
        ["TOTP", "default", "SUCCESS"],
        ["TOTP", "default", "SUCCESS"],
    ]


def test_the_completion_code_typed_again_is_refused_with_3402_until_the_next_one(
    server: LiveServer, api: Api, person: ScriptedPerson
) -> None:
    store = unique("store")
    person.plan = ["now", "again", "later"]

    exit_status = demo(server, person, store)

    assert exit_status == 0
    assert [warning.split(":")[0] for warning in person.warnings] == ["error 3402"]
    assert audit_trail(api, store, person.name) == [
        ("SUCCESS", None),
        ("FAILURE", 3402),
        ("SUCCESS", None),
    ]
    assert printed_table(person.transcript) == [
        ["TOTP", "default", "SUCCESS"],
        ["TOTP", "default", "FAILURE", "3402"],
        ["TOTP", "default", "SUCCESS"],
    ]


def test_the_demo_fails_after_three_wrong_codes_without_locking_the_user(
    server: LiveServer, api: Api, person: ScriptedPerson
) -> None:
    store = unique("store")
    person.plan = ["wrong", "wrong", "wrong"]

    exit_status = demo(server, person, store)

    assert exit_status == 1
    assert "no code was accepted in 3 attempts" in person.warnings[-2]
    assert audit_trail(api, store, person.name) == [("FAILURE", 3401)] * 3
    user = api.client.get(api.user_url(store, {"externalId": person.name}, ext=True)).json()
    assert user["locks"]["modalities"]["TOTP"] == {"failedAttempts": 3}


def test_the_demo_fails_when_input_ends_before_the_codes(
    server: LiveServer, person: ScriptedPerson
) -> None:
    person.plan = []

    exit_status = demo(server, person, unique("store"))

    assert exit_status == 1
    assert "stopped before the end" in person.warnings[-1]


def test_a_refused_api_key_is_shown_with_9003_and_what_to_do(
    server: LiveServer, person: ScriptedPerson
) -> None:
    exit_status = demo(server, person, unique("store"), api_key="idsk_" + "x" * 43)

    assert exit_status == 1
    assert person.warnings[0].startswith("idstore demo: error 9003: ")
    assert "--api-key" in person.warnings[1]
    assert person.prompts == []


def test_the_demo_reads_the_api_key_from_the_bootstrap_key_file(
    server: LiveServer, api: Api, person: ScriptedPerson, tmp_path: Path
) -> None:
    (tmp_path / "bootstrap-api-key").write_text(server.api_key + "\n", encoding="utf-8")
    store = unique("store")

    exit_status = demo(server, person, store, api_key=None, data_dir=tmp_path)

    assert (exit_status, person.warnings) == (0, [])
    assert audit_trail(api, store, person.name) == [("SUCCESS", None), ("SUCCESS", None)]


def test_the_demo_names_the_missing_key_file_and_what_to_do(
    server: LiveServer, person: ScriptedPerson, tmp_path: Path
) -> None:
    exit_status = demo(server, person, unique("store"), api_key=None, data_dir=tmp_path)

    assert exit_status == 1
    assert str(tmp_path / "bootstrap-api-key") in person.warnings[0]
    assert "--api-key" in person.warnings[1]


def test_the_demo_says_to_start_the_service_when_nothing_answers(person: ScriptedPerson) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    exit_status = run_demo(
        url=f"http://127.0.0.1:{closed_port}",
        api_key=None,
        data_dir=Path("no-such-dir"),
        console=person.console(),
    )

    assert exit_status == 1
    assert "cannot reach the service" in person.warnings[0]
    assert f"IDSTORE_PORT={closed_port} make run" in person.warnings[1]


def test_the_idstore_demo_command_walks_through_on_the_terminal(
    server: LiveServer,
    api: Api,
    person: ScriptedPerson,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def typed_at_the_terminal(prompt: str) -> str:
        person.transcript.append(capsys.readouterr().out)
        return person.ask(prompt)

    monkeypatch.setattr("builtins.input", typed_at_the_terminal)
    monkeypatch.delenv("IDSTORE_BOOTSTRAP_API_KEY", raising=False)

    exit_status = main(["demo", "--url", server.base_url, "--api-key", server.api_key])

    printed = capsys.readouterr()
    assert (exit_status, printed.err) == (0, "")
    assert "Signed in" in printed.out
    assert audit_trail(api, "demo", person.name) == [("SUCCESS", None), ("SUCCESS", None)]


class NotIdstore(BaseHTTPRequestHandler):
    """Some other web server: every path is a plain-text 404."""

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"nothing here")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_demo_says_when_the_url_is_not_an_idstore_service(person: ScriptedPerson) -> None:
    other = HTTPServer(("127.0.0.1", 0), NotIdstore)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        exit_status = run_demo(
            url=f"http://127.0.0.1:{other.server_port}",
            api_key="idsk_" + "x" * 43,
            data_dir=Path("no-such-dir"),
            console=person.console(),
        )
    finally:
        other.shutdown()
        other.server_close()

    assert exit_status == 1
    assert "answered HTTP 404 without an error code" in person.warnings[0]
    assert "--url" in person.warnings[1]
