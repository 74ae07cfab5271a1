"""What appkey operations that change a user's keys answer: the user, and what the app must do."""

from __future__ import annotations

from typing import Any

from idstore.api.schemas.common import ResponseBody
from idstore.api.schemas.users import UserOut


class DeregistrationOut(ResponseBody):
    """The user after the deletion, and the UAF DeregistrationRequest for the app to apply."""

    user: UserOut
    deregistration_request: list[dict[str, Any]]
