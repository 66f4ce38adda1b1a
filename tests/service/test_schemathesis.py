"""Schemathesis against the app's own OpenAPI description, in-process (ASGI), as admin.

Every operation gets a bounded number of generated requests (valid by the schema, with
hypothesis's edge cases: empty and long strings, odd Unicode, big numbers, far dates).
Checks: no 5xx, every status and content type documented, every body matching its
response schema. About 10-20 s on two cores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as st_checks

from gridtwin.service.app import create_app
from gridtwin.service.auth import create_admin, issue_token
from gridtwin.service.settings import ServiceSettings
from tests.service.conftest import PASSWORD, make_store

#: An admin name hypothesis will not stumble on (so it cannot disable itself).
ADMIN = "st-admin-q7z"
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def auth_headers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("schemathesis")
    app_settings = ServiceSettings(store=make_store(folder))
    create_admin(app_settings, ADMIN, PASSWORD)
    token = issue_token(app_settings, ADMIN, 3600).token
    return {"settings": app_settings, "headers": {"Authorization": f"Bearer {token}"}}


@pytest.fixture(scope="module")
def api_schema(auth_headers: dict[str, Any]) -> Iterator[Any]:
    from schemathesis.python import asgi

    app = create_app(auth_headers["settings"])
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", app, headers=auth_headers["headers"]
    )
    yield schema
    asgi.shutdown_lifespans()  # closes the store and the accounts


def test_api_conforms_to_its_schema(api_schema: Any, auth_headers: dict[str, Any]) -> None:
    # schemathesis's pytest loader (from_fixture) does not run under this pytest, so each
    # operation gets its own hypothesis run here; every failure is collected, then shown
    headers = auth_headers["headers"]
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)

        try:
            run()
        except Exception as exc:  # every operation's failure, not only the first
            failures[operation.label] = f"{type(exc).__name__}: {exc}"[:3000]
    assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
    assert set(statuses) == {op.label for op in operations}  # every operation was called
    assert any(200 in codes or 201 in codes for codes in statuses.values())
    print(sorted((k, sorted(v)) for k, v in statuses.items()))  # noqa: T201
