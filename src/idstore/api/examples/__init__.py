"""Examples for /openapi.json and /docs: a request body, a success and the errors of each operation.

Every example is what the service really answers, with obviously fake secrets; the routers attach
them where they declare their bodies and responses, and tests/api/test_openapi_examples.py
validates each one against the schema it documents.
"""
