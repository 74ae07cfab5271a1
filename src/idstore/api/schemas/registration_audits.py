"""The answers of GET …/passkeys/{id}/registrationAudit and …/appkeys/{id}/registrationAudit:
the flat fields the key's registration kept (docs/passkeys.md, docs/appkeys.md) and, added
beside them, the authentication record of the completion that registered the key, as
GET …/authentications/{id} shows it (the changelog of 2025-12-01; docs/decisions.md). Apart from
the other schemas because the audit schemas import the passkey ones."""

from __future__ import annotations

from idstore.api.schemas.appkeys import AppkeyRegistrationAuditOut
from idstore.api.schemas.audit import AuthAuditDisplayInfoOut, AuthAuditRecordOut
from idstore.api.schemas.common import ResponseBody
from idstore.api.schemas.passkeys import RegistrationAuditOut


class CompletionRecordOut(ResponseBody):
    """Both absent for a key without such a record (imported, or registered before
    completions were audited)."""

    auth_audit_record: AuthAuditRecordOut | None = None
    auth_audit_display_info: AuthAuditDisplayInfoOut | None = None


class PasskeyRegistrationAuditRecordOut(RegistrationAuditOut, CompletionRecordOut):
    pass


class AppkeyRegistrationAuditRecordOut(AppkeyRegistrationAuditOut, CompletionRecordOut):
    pass
