"""Users (spec §4) and the user object every authentication answers with."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from idstore.api.schemas.appkeys import AppkeyOut
from idstore.api.schemas.biometrics import BiometricOut
from idstore.api.schemas.common import (
    Dtm,
    ErrorOut,
    NotNull,
    RequestBody,
    ResponseBody,
    ShortText,
    Storable,
    StrictStr,
)
from idstore.api.schemas.passkeys import PasskeyOut
from idstore.api.schemas.stores import Locale, TimeZone
from idstore.api.schemas.totps import UserTotpOut
from idstore.storable import check_json

ExternalId = Annotated[StrictStr, Field(min_length=1, max_length=255), Storable]
Status = Literal["ACTIVE", "PENDING_ACTIVE", "DISABLED", "LOCKED", "TEMP_LOCKED"]
Modality = Literal["TOTP", "Passkey", "Appkey", "Face"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("not an e-mail address")
    return value


def _iso_date(value: Any) -> Any:
    # Lax date parsing would take 0 as 1970-01-01 and a datetime as its date.
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


DateOfBirth = Annotated[date, BeforeValidator(_iso_date)]
Email = Annotated[StrictStr, Field(max_length=320), Storable, AfterValidator(_email)]
Nationality = Annotated[StrictStr, Field(pattern=r"^[A-Z]{2,3}$"), Storable]
Attributes = Annotated[dict[str, Any], Field(max_length=100), AfterValidator(check_json)]


class UnlockIn(RequestBody):
    modalities: Annotated[
        Annotated[list[Modality], Field(min_length=1, max_length=4)] | None, NotNull
    ] = None


class UserLockOut(ResponseBody):
    status: Status
    locked_dtm: Dtm
    unlock_dtm: Dtm | None = None


class ModalityLockOut(ResponseBody):
    failed_attempts: int
    locked_dtm: Dtm | None = None
    unlock_dtm: Dtm | None = None


class LocksOut(ResponseBody):
    user: UserLockOut | None = None
    modalities: dict[str, ModalityLockOut]


class SummaryInfoOut(ResponseBody):
    biometrics: list[BiometricOut]
    appkeys: list[AppkeyOut]
    passkeys: list[PasskeyOut]
    totps: list[UserTotpOut]


class UserOut(ResponseBody):
    id: str
    external_id: str
    store_id: str
    status: Status
    type: str | None = None
    locale: str | None = None
    timezone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    date_of_birth: date | None = None
    nationalities: list[str] | None = None
    attributes: dict[str, Any] | None = None
    created_dtm: Dtm
    last_updated_dtm: Dtm
    last_successful_authentication_dtm: Dtm | None = None
    lock_count: int
    locks: LocksOut
    summary_info: SummaryInfoOut


class UserSlimOut(ResponseBody):
    id: str
    external_id: str
    status: Status
    store_id: str
    created_dtm: Dtm
    last_updated_dtm: Dtm


class UserFields(RequestBody):
    """The settable fields of a user; an update changes only those it gives (null clears)."""

    emitted_as = (UserOut,)

    # TEMP_LOCKED comes only from failed attempts: the service refuses it (9002) unless the user
    # shows it already, when sending it back changes nothing.
    status: Annotated[Status | None, NotNull] = None
    type: Annotated[StrictStr, Field(max_length=64), Storable] | None = None
    locale: Locale | None = None
    timezone: TimeZone | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: Email | None = None
    date_of_birth: DateOfBirth | None = None
    nationalities: Annotated[list[Nationality], Field(max_length=20)] | None = None
    attributes: Attributes | None = None


class UserIn(UserFields):
    external_id: ExternalId


class UserPatch(UserFields):
    external_id: Annotated[ExternalId | None, NotNull] = None


class AuthenticationErrorOut(ErrorOut):
    """An authentication failure: the error, and the user with its updated lock state."""

    user: UserOut | None = None
