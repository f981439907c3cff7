"""Property-based fuzzing of the live OpenAPI document (schemathesis) with a valid coordinator token.

Every operation is called with generated valid and invalid data; a 5xx, an undocumented status,
a wrong content type or a body that breaks the documented schema fails the test.
Run alone: `.venv/bin/pytest -q tests/test_api_schemathesis.py` (the number of examples per
operation is API_FUZZ_EXAMPLES, 15 by default).
"""
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", 15))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]




@pytest.fixture
def fuzz_token(app, app_ctx, users, reference, hosts, reg_appeal):
    """Some real data to hit (offices, hosts, an appeal) and a coordinator's token without a rate limit."""
    from appeals.api import tokens
    from appeals.mandates import directives
    from appeals.register import attachments
    from tests.hostile_files import photo_with_gps

    appeal = reg_appeal()
    # A file to list and download (the kept bytes against the documented media types).
    attachments.attach_files(appeal, [attachments.Upload("photo.jpg", photo_with_gps())], users.coordinator)
    directives.create_directive({"number": "1", "issued_on": "2026-01-10", "title": "Аманат"}, users.coordinator)
    _token, secret = tokens.create_token(users.coordinator, "fuzz")
    limits = {key: app.config[key] for key in ("API_RATE_LIMIT_PER_MINUTE", "API_USER_RATE_LIMIT_PER_MINUTE")}
    app.config.update(dict.fromkeys(limits, 10**9))
    yield secret
    app.config.update(limits)


def test_api_conforms_to_its_openapi_document(app, fuzz_token, monkeypatch):
    calls = {"all": 0, "ok": 0}
    wsgi_app = app.wsgi_app

    def counting(environ, start_response):
        def start(status, *args):
            calls["all"] += 1
            calls["ok"] += status.startswith("2")
            return start_response(status, *args)

        return wsgi_app(environ, start)

    monkeypatch.setattr(app, "wsgi_app", counting)

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {fuzz_token}"}
    # Deletions last: DELETE /tokens/{id} may revoke the fuzzing token itself.
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.method.upper() == "DELETE")
    assert len(operations) >= 25
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}):\n{exc}")
    assert not failures, "\n\n".join(failures)
    # The fuzzing really reached the endpoints, with the token accepted.
    assert calls["ok"] > len(operations) and calls["all"] > 10 * len(operations)
