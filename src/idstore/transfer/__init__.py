"""Moving in and out: authenticators from other systems, idstore exports, the audit as files."""
