"""Property-based fuzzing of the whole API from its own OpenAPI document, on both backends.

schemathesis generates requests that the served document says are valid, for every operation,
and sends them with the admin key to a real server. Every answer must be no 5xx, a status the
document declares for that operation, of a declared content type, and a body matching the
declared schema: the document is the wire contract clients are generated from, so it must tell
the truth about errors too. Generation is derandomized (the same examples every run) and
bounded (50 examples an operation, no shrinking), so the run is repeatable and short. The
operations are dealt into `SHARDS` tests, each with a server of its own, so that the suite's
workers fuzz them side by side.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_KEY
from tests.support.server import RunningServer

EXAMPLES_PER_OPERATION = 50
SHARDS = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# schemathesis's own strategies draw from `random`, which hypothesis now warns about
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def fuzz_operation(operation: Any, base_url: str, session: requests.Session) -> list[str]:
    found: list[str] = []

    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=AUTH, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # report every failing operation
            found.append(f"{operation.label}: {exc}"[:3000])
            raise

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:
        if not found:
            found.append(f"{operation.label}: {exc!r}"[:3000])
    return found


def fuzz(spec: dict[str, Any], base_url: str, shard: int) -> list[str]:
    """Fuzz every `SHARDS`th operation of the document, from the `shard`th."""
    schema = schemathesis.openapi.from_dict(spec)
    failures: list[str] = []
    with requests.Session() as session:
        for index, result in enumerate(schema.get_all_operations()):
            if index % SHARDS != shard:
                continue
            if isinstance(result, Err):
                failures.append(f"the document does not load: {result.err()}")
                continue
            operation = result.ok()
            failures.extend(fuzz_operation(operation, base_url, session))
    return failures


@pytest.mark.parametrize("shard", range(SHARDS))
async def test_the_api_answers_as_its_openapi_document_says(
    server: RunningServer, client: httpx.AsyncClient, shard: int
) -> None:
    spec = (await client.get("/openapi.json")).json()
    # the server runs on this event loop, so the synchronous fuzzer runs on a thread
    failures = await asyncio.to_thread(fuzz, spec, server.base_url, shard)
    assert not failures, "\n\n".join(failures)
