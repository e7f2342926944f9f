"""The API fuzzed from its own OpenAPI document (Schemathesis, in process over ASGI).

Every operation of ``/openapi.json`` gets generated requests, valid and invalid, against a
real runtime on SQLite holding two processed documents; each response must be no server
error (but the 503 declared for a missing embedding model), have a status the schema
declares, the media type it declares and a body that matches its schema. Bounded and seeded,
so that a run is short and repeatable: ``FUZZ_EXAMPLES`` cases per operation and mode,
Hypothesis derandomised.

Schemathesis's Python API drives Hypothesis here rather than its pytest plugin: the plugin's
schema-from-a-fixture loader (``schemathesis.pytest.from_fixture``, needed because the app
lives in a temporary folder) sets pytest's private ``Function._nodeid``, gone in pytest 9.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lexo.runtime import Runtime
from lexo.server import create_app

from .conftest import make_settings, make_text_pdf

#: Generated cases per operation: enough to reach every parameter's edges, short enough
#: for the whole run to stay well under a minute on two cores.
FUZZ_EXAMPLES = 25


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's check, but for the 503 an operation declares when the embedding model
    it needs is not cached (none is, here): that answer is the documented one."""
    if response.status_code == 503 and b'"code":"model_missing"' in response.content:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [
    no_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The server (API and page) on a runtime holding two processed documents."""
    folder = tmp_path_factory.mktemp("fuzz")
    runtime = Runtime(make_settings(folder, database_url=f"sqlite:///{folder / 'lexo.db'}"))
    app = create_app(runtime=runtime)
    with TestClient(app):  # runs the lifespan: the database is migrated, the runtime ready
        for n, lines in enumerate((["Facture n° FA-1", "Total TTC : 84,20 €"], ["Avis"])):
            pdf = make_text_pdf(folder / f"doc{n}.pdf", [lines])
            runtime.intake.ingest_path(Path(pdf), source="cli")
        runtime.make_worker().run_until_idle()
        yield app


@pytest.fixture(scope="module")
def api_schema(fuzzed_app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_as_its_schema_says(api_schema: Any, mode: GenerationMode) -> None:
    """Valid requests, then invalid ones (wrong types, out of bounds, missing fields)."""
    failures: dict[str, str] = {}
    counts: dict[str, int] = {}
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            counts[operation.label] = _fuzz(operation, mode)
        except Unsatisfiable:  # no parameter or body to make invalid
            counts[operation.label] = 0
        except (AssertionError, FailureGroup) as exc:  # every operation runs; all are told
            failures[operation.label] = str(exc)
    print(f"{mode.value}: {sum(counts.values())} cases over {len(counts)} operations")
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert len(counts) > 20, counts  # the deferred routers are in the schema


def _fuzz(operation: Any, mode: GenerationMode) -> int:
    """Call one operation with generated cases and check each answer; returns how many."""
    calls = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,  # the same cases on every run
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # the first failure, not shrunk: quicker
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        nonlocal calls
        calls += 1
        case.call_and_validate(checks=CHECKS)

    fuzz()
    return calls
