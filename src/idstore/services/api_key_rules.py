"""What an API key may hold and be called: the operations a permission can name, and the
characters a key name may use. Shared by the API and `idstore api-key create`."""

from __future__ import annotations

import unicodedata

from idstore.services.callers import ANY_OPERATION

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


def is_known_operation(operation: str) -> bool:
    """Whether a permission may name `operation`: a route's operation, or `*`."""
    return operation == ANY_OPERATION or operation in OPERATIONS


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
