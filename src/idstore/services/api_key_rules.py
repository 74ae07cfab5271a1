"""What an API key may hold and be called: the permissions it may hold, the operations they can
name, and the characters a key name may use. Shared by the API and `idstore api-key create`."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from idstore.services.callers import ANY_OPERATION

PERMISSION_PATTERN = r"^TNT#[A-Za-z0-9._-]{1,64}#IdentityStore:(\*|[A-Za-z]{1,64})$"
_PERMISSION = re.compile(PERMISSION_PATTERN)

# Every operation a route checks (`idstore permissions-reference`); `caller_for` refuses any
# other, so that this list and the routes cannot drift apart.
OPERATIONS = frozenset(
    {
        "authenticateFace",
        "authenticateTotp",
        "completeAppkeyAuthentication",
        "completeAppkeyRegistration",
        "completeExternalAppkeyAuthentication",
        "completeExternalAppkeyRegistration",
        "completeExternalPasskeyAuthentication",
        "completeExternalPasskeyRegistration",
        "completePasskeyAuthentication",
        "completePasskeyRegistration",
        "completeTotpRegistration",
        "createApiKey",
        "createAppkeyConfig",
        "createPasskeyConfig",
        "createStore",
        "createTotpPolicy",
        "createUser",
        "deleteApiKey",
        "deleteAppkeyByKeyId",
        "deleteAppkeyConfig",
        "deletePasskeyConfig",
        "deleteStore",
        "deleteTotpPolicy",
        "deleteUser",
        "deleteUserAppkey",
        "deleteUserPasskey",
        "deleteUserTotp",
        "deregisterAppkeys",
        "deregisterTotp",
        "enrolBiometric",
        "getApiKey",
        "getAppkeyConfig",
        "getAppkeyRegistrationAudit",
        "getAppkeyTrustedFacets",
        "getAuthentication",
        "getPasskeyConfig",
        "getPasskeyRegistrationAudit",
        "getStore",
        "getTotpPolicy",
        "getTotpRegistration",
        "getUser",
        "getUserAppkey",
        "getUserPasskey",
        "getUserTotp",
        "listApiKeys",
        "listAuthentications",
        "listEvents",
        "listStores",
        "listUserAppkeys",
        "listUserPasskeys",
        "listUserTotps",
        "listUsers",
        "recordBiometricFailure",
        "setPreferredAppkeyDevice",
        "startAppkeyAuthentication",
        "startAppkeyRegistration",
        "startPasskeyAuthentication",
        "startPasskeyRegistration",
        "startTotpRegistration",
        "unlockUser",
        "updateApiKey",
        "updateAppkeyConfig",
        "updatePasskeyConfig",
        "updateStore",
        "updateTotpPolicy",
        "updateUser",
        "updateUserAppkey",
        "updateUserPasskey",
        "updateUserTotp",
    }
)

# Bidirectional formatting characters (Unicode 15, UAX #9 §2): they make a name display as
# something else in a console or an admin page ("Trojan source").
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e") | frozenset(
    "\u2066\u2067\u2068\u2069"
)


# The most permissions one key is given: the API refuses more in its schema, the CLI here.
MAX_PERMISSIONS = 64


class PermissionRefused(ValueError):
    """A permission no API key may hold, and why."""

    def __init__(self, permission: str, reason: str) -> None:
        super().__init__(f"{permission!r}: {reason}")
        self.permission = permission


def is_known_operation(operation: str) -> bool:
    """Whether a permission may name `operation`: a route's operation, or `*`."""
    return operation == ANY_OPERATION or operation in OPERATIONS


def check_permission(permission: str) -> str:
    """Refuse a permission that is not `TNT#{tenant}#IdentityStore:{operation}` or names an
    operation no route checks. Whose tenant it names is for the caller to check.

    Raises ValueError saying which.
    """
    if not _PERMISSION.fullmatch(permission):
        raise ValueError("not of the form TNT#{tenant}#IdentityStore:{operation}")
    operation = permission.rsplit(":", 1)[-1]
    if not is_known_operation(operation):
        raise ValueError(f"unknown operation {operation!r} (see docs/permissions.md)")
    return permission


def permissions_held(permissions: Sequence[str]) -> tuple[str, ...]:
    """What a key given `permissions` holds: each one checked (`check_permission`), and each once,
    the first kept, since a permission given twice grants nothing more (docs/security.md).

    Raises PermissionRefused for the first refused.
    """
    for permission in permissions:
        try:
            check_permission(permission)
        except ValueError as refusal:
            raise PermissionRefused(permission, str(refusal)) from None
    return tuple(dict.fromkeys(permissions))


def check_key_name(name: str) -> str:
    """Refuse a key name holding control characters or bidirectional overrides; it is shown in
    lists, logs of admin tools and consoles, where such characters hide or disguise text.

    Raises ValueError saying which kind of character it holds.
    """
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise ValueError("must not contain control characters")
    if any(char in _BIDI_CONTROLS for char in name):
        raise ValueError("must not contain bidirectional formatting characters")
    return name
