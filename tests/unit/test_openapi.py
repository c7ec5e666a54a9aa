"""The OpenAPI document: valid OpenAPI 3.1, true to the vendor's page and the official SDK, shipped in the wheel."""

from __future__ import annotations

import copy
import json
import zipfile
from typing import Any

import pytest
from huaweicloudsdkdcs.v2 import (
    BatchRestartMigrationTaskResult,
    BatchRestartOnlineMigrationTasksBody,
    BatchRestartOnlineMigrationTasksRequest,
    BatchRestartOnlineMigrationTasksResponse,
    DcsClient,
)
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from conformance.contract import CATALOGUE_FILE, ENDPOINT, MAX_BATCH, SPEC_FILE, contract_dir, load_spec, spec_sha256
from tests.conftest import Distribution

SPEC_URI = "urn:dcs-conformance:batch-restart"
ERROR_STATUSES = ("400", "401", "403", "404", "500")
UUID_A = "091434c0-d6d7-47c6-9e14-17cc9502b27b"
UUID_B = "7599c3ed-d0d3-4fb9-9273-653160302023"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="module")
def operation(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["paths"][ENDPOINT]["post"]


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for ``schema`` whose ``#/components/...`` references resolve into the spec."""
    registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec))
    return Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(schema: dict[str, Any]) -> dict[str, Any]:
    """Point a local ``#/...`` reference of a schema taken out of the spec at the registered spec resource."""
    rebased = copy.deepcopy(schema)
    if isinstance(rebased.get("$ref"), str) and rebased["$ref"].startswith("#/"):
        rebased["$ref"] = SPEC_URI + rebased["$ref"]
    return rebased


def component(spec: dict[str, Any], name: str) -> Draft202012Validator:
    return validator(spec, {"$ref": f"#/components/schemas/{name}"})


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (such as ``#/components/responses/Error400``) to the object it names."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def errors(v: Draft202012Validator, instance: Any) -> list[str]:
    return [error.message for error in v.iter_errors(instance)]


def seed_example(label: str) -> Any:
    """The JSON example that follows ``label`` ("Example Requests" / "Example Responses") on the vendor's page."""
    text = (contract_dir() / "sources" / "seed-batch-restart.txt").read_text(encoding="utf-8")
    start = text.index("\n{", text.index(label)) + 1  # the JSON starts a line; the request line has {dcs_endpoint}
    document, _ = json.JSONDecoder().raw_decode(text[start:])
    return document


# --- the document itself ---------------------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema


def test_document_declares_the_post_endpoint_with_every_documented_status(spec: dict[str, Any]) -> None:
    assert list(spec["paths"]) == [ENDPOINT]
    assert set(spec["paths"][ENDPOINT]) == {"post"}
    assert set(spec["paths"][ENDPOINT]["post"]["responses"]) == {"200", *ERROR_STATUSES}


def test_request_schema_is_the_documented_body(operation: dict[str, Any]) -> None:
    request = operation["requestBody"]
    assert request["required"] is True
    assert request["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BatchRestartOnlineMigrationTasksBody"
    }


# --- the seed examples -----------------------------------------------------------------------------------------------


def test_embedded_seed_request_example_validates_against_request_schema(
    spec: dict[str, Any], operation: dict[str, Any]
) -> None:
    media = operation["requestBody"]["content"]["application/json"]
    example = media["examples"]["seed"]["value"]
    assert example == {"migration_tasks": [UUID_A, UUID_B]}
    assert errors(validator(spec, media["schema"]), example) == []


def test_embedded_seed_response_example_validates_against_200_schema(
    spec: dict[str, Any], operation: dict[str, Any]
) -> None:
    media = operation["responses"]["200"]["content"]["application/json"]
    example = media["examples"]["seed"]["value"]
    assert [item["result"] for item in example["migration_tasks"]] == ["success", "failed"]
    assert errors(validator(spec, media["schema"]), example) == []


def test_seed_page_request_example_matches_the_embedded_one_and_validates(
    spec: dict[str, Any], operation: dict[str, Any]
) -> None:
    media = operation["requestBody"]["content"]["application/json"]
    from_page = seed_example("Example Requests")
    assert from_page == media["examples"]["seed"]["value"]
    assert errors(validator(spec, media["schema"]), from_page) == []


def test_seed_page_response_example_matches_the_embedded_one_and_validates(
    spec: dict[str, Any], operation: dict[str, Any]
) -> None:
    media = operation["responses"]["200"]["content"]["application/json"]
    from_page = seed_example("Example Responses")
    assert from_page["migration_tasks"][1]["error_code"] == "dcs.41.0001"
    assert from_page == media["examples"]["seed"]["value"]
    assert errors(validator(spec, media["schema"]), from_page) == []


# --- what the response schema accepts and refuses --------------------------------------------------------------------


def test_failed_item_without_error_code_is_rejected(spec: dict[str, Any]) -> None:
    body = {"migration_tasks": [{"result": "failed", "task_id": UUID_A, "error_msg": "task not v2"}]}
    assert errors(component(spec, "BatchRestartOnlineMigrationTasksResponse"), body)


def test_failed_item_with_empty_or_null_error_fields_is_rejected(spec: dict[str, Any]) -> None:
    item = component(spec, "BatchRestartMigrationTaskResult")
    base = {"result": "failed", "task_id": UUID_A}
    assert errors(item, {**base, "error_code": "", "error_msg": "x"})
    assert errors(item, {**base, "error_code": "x", "error_msg": None})


def test_result_outside_success_and_failed_is_rejected(spec: dict[str, Any]) -> None:
    item = component(spec, "BatchRestartMigrationTaskResult")
    assert errors(item, {"result": "SUCCESS", "task_id": UUID_B})
    assert errors(item, {"result": "ok", "task_id": UUID_B})


def test_item_without_task_id_is_rejected(spec: dict[str, Any]) -> None:
    assert errors(component(spec, "BatchRestartMigrationTaskResult"), {"result": "success"})


def test_additive_fields_are_accepted_in_items_and_bodies(spec: dict[str, Any]) -> None:
    body = {
        "migration_tasks": [{"result": "success", "task_id": UUID_B, "instance_id": "i-1"}],
        "request_count": 1,
    }
    assert errors(component(spec, "BatchRestartOnlineMigrationTasksResponse"), body) == []
    assert errors(component(spec, "ErrorBody"), {"error_code": "DCS.4800", "error_msg": "bad", "extra": 1}) == []


def test_success_item_without_error_fields_is_accepted(spec: dict[str, Any]) -> None:
    assert errors(component(spec, "BatchRestartMigrationTaskResult"), {"result": "success", "task_id": UUID_B}) == []


def test_response_items_in_any_order_are_accepted(spec: dict[str, Any]) -> None:
    body = seed_example("Example Responses")
    body["migration_tasks"].reverse()
    assert errors(component(spec, "BatchRestartOnlineMigrationTasksResponse"), body) == []


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_error_body_with_null_or_absent_error_ext_msg_is_accepted(
    spec: dict[str, Any], operation: dict[str, Any], status: str
) -> None:
    response = resolve(spec, operation["responses"][status])
    schema = validator(spec, response["content"]["application/json"]["schema"])
    assert errors(schema, {"error_code": "DCS.4800", "error_msg": "Invalid request.", "error_ext_msg": None}) == []
    assert errors(schema, {"error_code": "DCS.4800", "error_msg": "Invalid request."}) == []
    assert errors(schema, {"error_code": "DCS.4800", "error_msg": "Invalid request.", "error_ext_msg": "x"}) == []


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_error_body_without_error_code_or_error_msg_is_rejected(
    spec: dict[str, Any], operation: dict[str, Any], status: str
) -> None:
    response = resolve(spec, operation["responses"][status])
    schema = validator(spec, response["content"]["application/json"]["schema"])
    assert errors(schema, {"error_msg": "Invalid request."})
    assert errors(schema, {"error_code": "DCS.4800"})
    assert errors(schema, {"error_code": 4800, "error_msg": "Invalid request."})


# --- what the request schema accepts and refuses ---------------------------------------------------------------------


def test_request_with_51_items_is_rejected_and_50_accepted(spec: dict[str, Any]) -> None:
    body = component(spec, "BatchRestartOnlineMigrationTasksBody")
    ids = [f"task-{index:02d}" for index in range(MAX_BATCH + 1)]
    assert errors(body, {"migration_tasks": ids[:MAX_BATCH]}) == []
    assert errors(body, {"migration_tasks": ids})


def test_request_with_empty_list_is_accepted_because_min_items_is_undocumented(spec: dict[str, Any]) -> None:
    assert errors(component(spec, "BatchRestartOnlineMigrationTasksBody"), {"migration_tasks": []}) == []


def test_request_without_list_or_with_non_string_items_is_rejected(spec: dict[str, Any]) -> None:
    body = component(spec, "BatchRestartOnlineMigrationTasksBody")
    assert errors(body, {})
    assert errors(body, {"migration_tasks": UUID_A})
    assert errors(body, {"migration_tasks": [UUID_A, 7]})
    assert errors(body, {"migration_tasks": [{"task_id": UUID_A}]})


# --- the official SDK's models agree with the document ---------------------------------------------------------------


def sdk_type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """The SDK's type notation for a schema: ``str``, ``list[X]`` or a model name."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    non_null = [t for t in types if t != "null"]
    assert len(non_null) == 1, f"ambiguous type {types}"
    if non_null[0] == "array":
        return f"list[{sdk_type(spec, schema['items'])}]"
    return {"string": "str", "integer": "int", "boolean": "bool", "number": "float", "object": "object"}[non_null[0]]


def response_header_fields() -> set[str]:
    """Fields of the SDK response model that the SDK fills from response headers, not from the body."""
    http_info = DcsClient._batch_restart_online_migration_tasks_http_info(BatchRestartOnlineMigrationTasksRequest())
    return set(http_info["response_headers"])


@pytest.mark.parametrize(
    "model",
    [BatchRestartOnlineMigrationTasksBody, BatchRestartOnlineMigrationTasksResponse, BatchRestartMigrationTaskResult],
    ids=lambda model: model.__name__,
)
def test_sdk_model_fields_and_types_equal_the_document_schema(spec: dict[str, Any], model: type) -> None:
    assert set(model.attribute_map) == set(model.openapi_types)
    header_fields = response_header_fields()
    from_sdk = {
        model.attribute_map[attr]: kind
        for attr, kind in model.openapi_types.items()
        if model.attribute_map[attr] not in header_fields
    }
    assert from_sdk, "the SDK model has no body fields"
    schema = spec["components"]["schemas"][model.__name__]
    from_spec = {name: sdk_type(spec, prop) for name, prop in schema["properties"].items()}
    assert from_sdk == from_spec


def test_sdk_response_model_has_no_header_fields_to_ignore() -> None:
    assert response_header_fields() == set()
    assert set(BatchRestartOnlineMigrationTasksResponse.openapi_types) == {"migration_tasks"}


def test_sdk_operation_uses_the_documents_method_path_and_body_schema(operation: dict[str, Any]) -> None:
    http_info = DcsClient._batch_restart_online_migration_tasks_http_info(BatchRestartOnlineMigrationTasksRequest())
    assert http_info["method"] == "POST"
    assert http_info["resource_path"] == ENDPOINT
    assert http_info["response_type"] == BatchRestartOnlineMigrationTasksResponse.__name__
    request_types = BatchRestartOnlineMigrationTasksRequest.openapi_types
    assert request_types == {"body": BatchRestartOnlineMigrationTasksBody.__name__}
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.rsplit("/", 1)[-1] == BatchRestartOnlineMigrationTasksBody.__name__
    ok_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok_ref.rsplit("/", 1)[-1] == BatchRestartOnlineMigrationTasksResponse.__name__


# --- the contract ships with the package -----------------------------------------------------------------------------


def test_contract_dir_holds_the_spec_the_catalogue_and_their_sources() -> None:
    directory = contract_dir()
    for name in (SPEC_FILE, CATALOGUE_FILE, "sources/seed-batch-restart.txt", "sources/FACTS.md"):
        assert (directory / name).is_file(), name
    assert len(spec_sha256()) == 64


def test_built_wheel_contains_the_contract(built_dist: Distribution) -> None:
    wheel = built_dist.wheel
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {
            "conformance/_contract/batch-restart.yaml",
            "conformance/_contract/requirements.yaml",
            "conformance/_contract/sources/seed-batch-restart.txt",
            "conformance/_contract/sources/FACTS.md",
        } <= names
        assert archive.read("conformance/_contract/batch-restart.yaml") == (contract_dir() / SPEC_FILE).read_bytes()
