"""User TOTPs (spec §5.2): registrations, codes and the TOTP object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from idstore.api.schemas.common import Dtm, NotNull, RequestBody, ResponseBody
from idstore.api.schemas.stores import Issuer

Username = Issuer  # the label's account part follows the issuer's rules: no ':'


class UserTotpOut(ResponseBody):
    id: str
    created_dtm: Dtm
    last_updated_dtm: Dtm
    status: Literal["PENDING", "ACTIVE", "DISABLED"]
    issuer: str
    username: str
    policy_name: str
    algorithm: str
    digits: int
    period: int
    activated_dtm: Dtm | None = None
    expiration_dtm: Dtm | None = None
    last_authenticated_with_dtm: Dtm | None = None


class RegistrationStartIn(RequestBody):
    username: Username | None = None


class RegistrationOut(ResponseBody):
    """A registration: while pending with its secret, URI and QR code; once active, the TOTP
    alone (with secret and URI only where the policy allows reading them back)."""

    totp: UserTotpOut
    secret: str | None = Field(default=None, description="Base32, upper case, no padding.")
    otpauth_uri: str | None = None
    qr_code: str | None = Field(default=None, description="Base64 of a PNG, or of an SVG.")


class CodeIn(RequestBody):
    # A plain strict string: a JSON number is 9002 (it loses leading zeros), but every character
    # of a string, NUL and lone surrogates included, is judged by the code rules (3400). The code
    # is never stored, so the storable-text check of `Text` has nothing to protect here.
    code: Annotated[
        str,
        Field(strict=True, description="The digits, as a string; spaces and hyphens ignored."),
    ]


class TotpStatusIn(RequestBody):
    """A user TOTP update: its status, or nothing (`{}` changes nothing); the TOTP as read
    back may be sent, its other fields ignored (spec §1)."""

    emitted_as = (UserTotpOut,)

    status: Annotated[Literal["ACTIVE", "DISABLED", "PENDING"] | None, NotNull] = None
