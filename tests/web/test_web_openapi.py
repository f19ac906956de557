"""schemathesis against the OpenAPI document: no generated request gets a 5xx.

Every operation of ``/api/v1/openapi.json`` is called with requests generated from its
schema (valid and invalid bodies, odd query values), as a member with a token (the
editor bob, who may write drafts and corrections) on the demo store.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from web_helpers import ORG

from klopt.store import Store


@pytest.fixture
def api_schema(sqlite_web_store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    from klopt.accounts.users import create_token
    from klopt.web.app import create_app

    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")  # drafts are checked; models aside
    app = create_app(sqlite_web_store)
    token = create_token(sqlite_web_store, "bob", label="fuzz", actor="bob")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    schema.klopt_headers = {"Authorization": f"Bearer {token}", "X-Klopt-Org": ORG}
    return schema


def test_no_generated_request_gets_a_server_error(api_schema: Any) -> None:
    """Each operation in turn (schemathesis's pytest plugin does not run on pytest 9)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 2
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            headers = {**(case.headers or {}), **api_schema.klopt_headers}
            try:
                response = case.call(headers=headers)
            except TypeError:
                # the client library cannot even build this request (an object key that
                # its header code chokes on): no request reached the app, nothing to judge
                reject()
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, (where, response.status_code, response.text[:300])
            if response.status_code >= 400:
                assert "error" in response.json(), (where, response.text[:300])

        call()


def test_the_document_lists_the_api(api_schema: Any) -> None:
    paths = set(api_schema.raw_schema["paths"])
    assert "/healthz" in paths
