"""Relying party ids and origins a passkey configuration accepts (issue 7 rule 1), and the sign
counter rule (rule 3): pure functions, no server."""

from __future__ import annotations

import pytest

from idstore.services.errors import IdstoreError, InvalidField
from idstore.services.passkey_errors import RelyingPartyIdRefused, SignCountNotIncreased
from idstore.services.passkey_origins import check_origins, check_rp_id, judge_origin
from idstore.services.webauthn_checks import check_sign_count

LISTED = ("https://login.example.com:8443",)


@pytest.mark.parametrize("rp_id", ["com", "co.uk", "github.io", "uk", "EXAMPLE.com", "a..b", ""])
def test_public_suffixes_and_non_domains_are_refused(rp_id: str) -> None:
    with pytest.raises(RelyingPartyIdRefused):
        check_rp_id(rp_id)


@pytest.mark.parametrize(
    "rp_id", ["example.com", "login.example.com", "example.co.uk", "localhost"]
)
def test_registrable_domains_and_localhost_are_accepted(rp_id: str) -> None:
    assert check_rp_id(rp_id) == rp_id


def test_configured_origins_are_canonical_and_deduplicated() -> None:
    given = ["https://login.example.com:443", "https://login.example.com", "https://EXAMPLE.com"]

    assert check_origins("example.com", given) == (
        "https://login.example.com",
        "https://example.com",
    )


@pytest.mark.parametrize(
    "origin", ["http://example.com", "https://evil.test", "https://example.com/", "example.com"]
)
def test_configured_origins_must_be_bare_https_origins_of_the_rp_id(origin: str) -> None:
    with pytest.raises(InvalidField):
        check_origins("example.com", [origin])


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("https://login.example.com", 354),
        ("http://login.example.com:8443", 382),
        ("https://login.example.com.evil.test", 383),
        ("https://LOGIN.example.com:8443", 354),
        (5, 383),
        ("https://[::1", 383),
    ],
)
def test_a_listed_origin_matches_exactly(origin: object, code: int) -> None:
    with pytest.raises(IdstoreError) as refused:
        judge_origin(origin, rp_id="example.com", restricted_origins=LISTED)

    assert refused.value.code == code


def test_the_listed_origin_is_accepted() -> None:
    accepted = judge_origin(LISTED[0], rp_id="example.com", restricted_origins=LISTED)

    assert accepted == LISTED[0]


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("https://notexample.com", 383),
        ("http://example.com", 382),
        ("https://example.com:8443", 354),
        ("http://localhost:8000", 382),
    ],
)
def test_without_a_list_only_https_rp_id_and_subdomains_pass(origin: str, code: int) -> None:
    with pytest.raises(IdstoreError) as refused:
        judge_origin(origin, rp_id="example.com", restricted_origins=())

    assert refused.value.code == code


@pytest.mark.parametrize("origin", ["https://example.com", "https://a.b.example.com"])
def test_without_a_list_the_rp_id_and_its_subdomains_pass(origin: str) -> None:
    assert judge_origin(origin, rp_id="example.com", restricted_origins=()) == origin


def test_http_localhost_passes_only_when_listed_exactly() -> None:
    listed = check_origins("localhost", ["http://localhost:8123"])

    assert judge_origin("http://localhost:8123", rp_id="localhost", restricted_origins=listed)
    with pytest.raises(IdstoreError) as other_port:
        judge_origin("http://localhost:8124", rp_id="localhost", restricted_origins=listed)
    assert other_port.value.code == 382


@pytest.mark.parametrize(("stored", "new"), [(0, 0), (0, 7), (7, 8)])
def test_counters_that_stay_zero_or_increase_pass(stored: int, new: int) -> None:
    check_sign_count(stored, new)


@pytest.mark.parametrize(("stored", "new"), [(7, 7), (7, 0), (7, 6)])
def test_counters_that_do_not_increase_are_372(stored: int, new: int) -> None:
    with pytest.raises(SignCountNotIncreased):
        check_sign_count(stored, new)
