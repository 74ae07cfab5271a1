"""Request and response bodies of the HTTP API: the contract's JSON, field by field."""
