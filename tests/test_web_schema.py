"""The JSON API against its own OpenAPI schema, with schemathesis: generated requests (valid and
invalid) to every operation, and no answer may be a server error; status codes, content types
and bodies must be the ones the schema documents.  The example count is kept small for CI.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ricci.web.app import LOCAL_HOSTS, Settings, create_app

#: Generated examples per operation (and mode): enough to find a 500, small enough for CI.
EXAMPLES = 15

app = create_app(Settings(workers=2, time_budget=4.0, grace=1.0,
                          allowed_hosts=LOCAL_HOSTS + ("testserver",)))  # schemathesis's Host
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# A generated invalid body can be over the server's 64 KB limit: 413 refuses it as rightly as 422.
_rejection = schema.config.checks.negative_data_rejection
_rejection.expected_statuses = [*_rejection.expected_statuses, "413"]


@pytest.fixture(scope="module", autouse=True)
def _workers():
    yield
    app.state.runner.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
def test_the_api_keeps_to_its_schema(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance, negative_data_rejection])
