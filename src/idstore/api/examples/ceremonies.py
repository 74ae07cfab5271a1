"""Example bodies every ceremony's completion takes (spec §9, §10), whatever the authenticator:
the client's response, its failure, and the EXTERNAL twin that carries the `sessionData`."""

from __future__ import annotations

from fastapi.openapi.models import Example

from idstore.api.examples.values import Json


def client_cancelled(client: str, message: str) -> Example:
    """A completion reporting that the `client` failed because the user cancelled."""
    return {
        "summary": f"The {client} failed (here: the user cancelled)",
        "value": {"clientFailure": {"reason": "CANCELLED", "message": message}},
    }


def completion_in(
    name: str, summary: str, client_response: Json | list[Json], failure: Example
) -> dict[str, Example]:
    """A completion by session id: the client's response under `name`, then the failure."""
    return {
        name: {"summary": summary, "value": {"clientResponse": client_response}},
        "failure": failure,
    }


def external_completion_in(
    name: str, response: str, session_data: str, client_response: Json | list[Json]
) -> dict[str, Example]:
    """An EXTERNAL completion: the `sessionData` from the start and the client's `response`."""
    return {
        name: {
            "summary": f"The sessionData from the start and {response}",
            "value": {"sessionData": session_data, "clientResponse": client_response},
        }
    }
