"""Errors of appkey configurations and key management (spec §10), in this service's own 3700-3709
range: the changelog does not number them. Its appkey codes 1009-1115 belong to the ceremonies."""

from __future__ import annotations

from idstore.services.errors import IdstoreError


class AppkeyConfigExists(IdstoreError):
    """The store already has an appkey configuration for that relying party id."""

    code = 3700
    http_status = 409
    default_message = "an appkey configuration for that relying party exists"


class NoAppkeysMatched(IdstoreError):
    """A deregistration or deletion by key id matched none of the user's appkeys."""

    code = 3701
    http_status = 404
    default_message = "no appkey of the user matches"


class AppkeyDeviceNotFound(IdstoreError):
    """The user has no appkey of that relying party on the device named."""

    code = 3702
    http_status = 404
    default_message = "the user has no appkey on that device"
