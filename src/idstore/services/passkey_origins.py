"""Which relying party ids and origins a passkey configuration accepts (spec §9, issue 7 rule 1).

Pure functions. The expected origin always comes from the configuration, never from a request
header: an origin is accepted when it is listed exactly (scheme, host and port), or, with an
empty list, when it is `https://{rpId}` or a subdomain of it on the default port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from idstore.services.errors import InvalidField
from idstore.services.passkey_errors import (
    OriginNotAllowed,
    OriginNotHttps,
    OriginNotOfRelyingParty,
    RelyingPartyIdRefused,
)

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

# Used with fullmatch only: `$` would also match before a trailing newline ("com\n").
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_DEFAULT_PORTS = {"https": 443, "http": 80}
# Development hosts whose plain-http origin a configuration may list (browsers treat them as
# secure contexts); nothing else may be http.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


@cache
def _public_suffixes() -> PublicSuffixList:
    # The snapshot bundled with the package; accept_unknown=False so that a name missing from the
    # list (`localhost`) is not taken for a suffix by the list's implicit `*` rule. Imported
    # here so that a worker loads the list (a few MB) when a configuration is first checked.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(accept_unknown=False)


@dataclass(frozen=True)
class Origin:
    """An origin as WebAuthn compares it: scheme, host and port, the port made explicit."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: object) -> Origin | None:
        """The origin `text` names, or None when it is not a bare origin."""
        if not isinstance(text, str) or any(
            ord(char) <= 0x20 or ord(char) == 0x7F for char in text
        ):
            return None  # urlsplit would silently drop tabs and newlines, and strip spaces
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            return None
        host = parts.hostname
        if parts.scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
            return None
        if parts.path or parts.query or parts.fragment or parts.password is not None:
            return None
        if ":" in host:
            host = f"[{host}]"
        # Port 0 is kept as written (no client reports it), not read as the default.
        return cls(parts.scheme, host, _DEFAULT_PORTS[parts.scheme] if port is None else port)

    def serialized(self) -> str:
        """The canonical text: the port only when it is not the scheme's default."""
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"

    def is_within(self, rp_id: str) -> bool:
        return self.host == rp_id or self.host.endswith("." + rp_id)


def check_rp_id(rp_id: str) -> str:
    """The relying party id, a lower-case domain that is not a public suffix (3607 otherwise)."""
    labels = rp_id.split(".")
    if rp_id != rp_id.lower() or not all(_LABEL.fullmatch(label) for label in labels):
        raise RelyingPartyIdRefused("the relying party id must be a lower-case domain name")
    if labels[-1].isdigit():
        raise RelyingPartyIdRefused("the relying party id must be a domain, not an address")
    if _public_suffixes().is_public(rp_id):
        raise RelyingPartyIdRefused("the relying party id is a public suffix")
    return rp_id


def check_origins(rp_id: str, origins: list[str]) -> tuple[str, ...]:
    """The configured origins in canonical form: each within the relying party id, https unless
    its host is a loopback development host. Raises InvalidField (9002)."""
    checked: list[str] = []
    for index, text in enumerate(origins):
        field = f"restrictedOrigins[{index}]"
        origin = Origin.parse(text)
        if origin is None:
            raise InvalidField.of(field, "must be an origin: scheme://host[:port], no path")
        if origin.scheme != "https" and origin.host not in _LOOPBACK_HOSTS:
            raise InvalidField.of(field, "must be https (http only for localhost)")
        if not origin.is_within(rp_id):
            raise InvalidField.of(field, "must be the relying party id or one of its subdomains")
        checked.append(origin.serialized())
    return tuple(dict.fromkeys(checked))


def judge_origin(origin_text: object, *, rp_id: str, restricted_origins: tuple[str, ...]) -> str:
    """Accept the client data's origin, or raise 382 (not https), 383 (not of the relying party)
    or 354 (not in the configured list). Answers the origin exactly as the client sent it."""
    origin = Origin.parse(origin_text)
    if origin is None:
        raise OriginNotOfRelyingParty("the origin in the client response is malformed")
    text = origin.serialized()
    if text == origin_text and text in restricted_origins:
        return text
    if origin.scheme != "https":
        raise OriginNotHttps()
    if not origin.is_within(rp_id):
        raise OriginNotOfRelyingParty()
    if restricted_origins:
        raise OriginNotAllowed()
    if origin.port != _DEFAULT_PORTS["https"] or text != origin_text:
        raise OriginNotAllowed("only the default https port is allowed without restrictedOrigins")
    return text
