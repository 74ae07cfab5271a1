"""Reading the answer of a write of a relying party's configuration (POST …/passkeyConfig,
…/appkeyConfig and their /{rpId}): the configuration as its GET shows it, and the store's
`configuration` the answer carries beside it (docs/decisions.md)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.checks import json_of


def written_config(answer: httpx.Response, status: int) -> dict[str, Any]:
    """The configuration the answer shows, without the store's configuration beside it (which
    must be there, an object)."""
    body = json_of(answer, status)
    assert isinstance(body.pop("configuration", None), dict), body
    return body
