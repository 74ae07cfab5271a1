"""Appkey ceremonies (spec §10): starts, completions, and what they answer.

UAF messages travel as they are: `request` is the UAF request array; `clientResponse` is the UAF
response array, or that array inside a JSON string. Neither is validated here: the uaf package
reads them, so that a malformed message answers its changelog code (1091, 3711…), not 9002; a
string, like the FinalChallengeParams inside, is read as strictly as a body (a member named
twice, NaN or Infinity is malformed).
`clientFailure` is read by the service too (1102 when malformed).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from idstore.api.schemas.appkeys import AppkeyOut
from idstore.api.schemas.common import Name, RequestBody, ResponseBody, Storable, StrictStr
from idstore.api.schemas.passkeys import SessionData
from idstore.api.schemas.users import UserOut

Label = Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]
# UAF 1.1 leaves the length open; a screen shows far less than this.
TransactionText = Annotated[StrictStr, Field(min_length=1, max_length=1024), Storable]


class AppkeyRegistrationStartIn(RequestBody):
    policy_name: Name
    device_id: Label | None = None
    device_name: Label | None = None


class AppkeyAuthenticationStartIn(RequestBody):
    policy_name: Name
    user_id: Label | None = None
    user_ext_id: Label | None = None
    transaction_text: TransactionText | None = None


class AppkeyCeremonyStartOut(ResponseBody):
    """`sessionId` (INTERNAL) or `sessionData` (EXTERNAL), and the UAF request for the app."""

    session_id: str | None = None
    session_data: str | None = None
    request: list[dict[str, Any]]


class AppkeyCompleteIn(RequestBody):
    """Completion of an INTERNAL session: the UAF response, or the failure the client saw.
    `sessionData` has no place here: sent anyway, it answers 1014, as the changelog says.
    JSON inside the response (the array sent as a string, the FinalChallengeParams) is read as
    strictly as a body: a member named twice, NaN or Infinity is malformed (3711, 1091)."""

    client_response: Any = None
    client_failure: Any = None
    session_data: Any = None


class AppkeyExternalCompleteIn(AppkeyCompleteIn):
    """Completion of an EXTERNAL session (`sessionData` from the start), or, for
    authentication, a single-shot response (no `sessionData`)."""

    session_data: SessionData | None = None


class AppkeyOutcomeOut(ResponseBody):
    """A registration or sign-in accepted: the updated user, the appkey made or used, and the
    id of the authentication audit record."""

    user: UserOut
    appkey: AppkeyOut
    authentication_id: str
