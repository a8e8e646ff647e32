"""The OpenAPI schema and its documentation pages: every operation documented with its errors, and the
Swagger UI and ReDoc pages served from our own static files (no CDN)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in schema["paths"].items() for method, op in item.items()]


def test_every_operation_is_versioned_described_and_documents_its_errors(schema: dict[str, Any]) -> None:
    operations = _operations(schema)
    assert len(operations) == 25
    for method, path, operation in operations:
        assert path.startswith("/api/v1/"), path
        assert operation.get("description"), f"{method} {path} has no description"
        codes = set(operation["responses"])
        assert {"401", "429"} <= codes, f"{method} {path}: {codes}"
        # 416 has no body; 422 is the rejected submission itself.
        errors = [code for code in codes if code.startswith(("4", "5")) and code not in {"416", "422"}]
        for code in errors:
            content = operation["responses"][code]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/ErrorOut"}, f"{method} {path} {code}"


def test_operations_that_need_an_object_document_404_and_writes_document_400(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        if "{" in path:
            assert "404" in operation["responses"], f"{method} {path}"
        if method == "post" and "withdraw" not in path:
            assert "400" in operation["responses"], f"{method} {path}"


def test_the_token_scheme_is_documented(schema: dict[str, Any]) -> None:
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert scheme == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <key>`; create a key on the account page (/accounts/tokens/).",
    }


def test_a_submission_is_uploaded_as_multipart_with_a_binary_file(schema: dict[str, Any]) -> None:
    create = schema["paths"]["/api/v1/challenges/{slug}/tasks/{task_slug}/submissions/"]["post"]
    body = create["requestBody"]["content"]["multipart/form-data"]["schema"]
    component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert component["properties"]["artifact"] == {
        "type": "string",
        "format": "binary",
        "description": "The submission file (a zip or tar.gz for directory artifacts).",
    }
    assert set(component["required"]) == {"artifact", "method_description"}
    assert {"201", "422", "429"} <= set(create["responses"])


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_load_nothing_from_another_site(client: Client, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html), html
    assert "googleapis" not in html and "cdn" not in html.lower()
    assets = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_swagger_ui_runs_no_inline_script(client: Client) -> None:
    """The site's Content-Security-Policy allows scripts from our own origin only."""
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()
