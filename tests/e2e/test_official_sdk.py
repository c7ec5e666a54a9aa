"""The vendor's official Python SDK, unmodified, drives the reference server with AK/SK signing over loopback HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkdcs.v2 import (
    BatchRestartMigrationTaskResult,
    BatchRestartOnlineMigrationTasksBody,
    BatchRestartOnlineMigrationTasksRequest,
    BatchRestartOnlineMigrationTasksResponse,
    DcsClient,
)

from conformance.reference.app import create_app
from conformance.reference.auth import AuthMode, AuthPolicy
from conformance.reference.server import BackgroundServer
from conformance.reference.store import MigrationTask, MigrationType, Status, TaskStore

pytestmark = [pytest.mark.e2e, pytest.mark.sdk]

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
AK, SK = "HPUASDKTESTAK0000001", "sdk-secret-key-0123456789abcdefghijklmnop"
RO_AK, RO_SK = "HPUASDKREADONLY00001", "sdk-readonly-key-0123456789abcdefghijklm"


@dataclass
class Served:
    server: BackgroundServer
    store: TaskStore


@dataclass
class Sdk:
    """An official DcsClient plus the raw HTTP responses it saw (the SDK's response model exposes no headers)."""

    client: DcsClient
    responses: list[Any] = field(default_factory=list)

    def restart(self, ids: list[str]) -> BatchRestartOnlineMigrationTasksResponse:
        body = BatchRestartOnlineMigrationTasksBody(migration_tasks=ids)
        request = BatchRestartOnlineMigrationTasksRequest(body=body)
        return self.client.batch_restart_online_migration_tasks(request)

    @property
    def last_request_id(self) -> str:
        return self.responses[-1].headers["X-Request-Id"]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    store = TaskStore()
    policy = AuthPolicy(mode=AuthMode.AKSK, keys={AK: SK}, readonly_keys={RO_AK: RO_SK})
    # serving only PROJECT proves the SDK put the credentials' project ID into the path
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            patch.delenv(name, raising=False)  # requests would otherwise send loopback traffic to a proxy
        with BackgroundServer(create_app(store, policy, projects=[PROJECT])) as server:
            yield Served(server, store)


def sdk(served: Served, ak: str = AK, sk: str = SK) -> Sdk:
    config = HttpConfig.get_default_config()
    config.timeout = (5, 10)
    config.retry_times = 0
    wrapper = Sdk(client=None)  # type: ignore[arg-type]
    handler = HttpHandler().add_response_handler(lambda **kwargs: wrapper.responses.append(kwargs["response"]))
    wrapper.client = (
        DcsClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk, PROJECT))
        .with_endpoints([served.server.base_url])  # kept as http:// because it starts with "http"
        .with_http_config(config)
        .with_http_handler(handler)
        .build()
    )
    return wrapper


def add_task(store: TaskStore, status: Status = Status.TERMINATED, api_version: str = "v2") -> str:
    task_id = str(uuid.uuid4())
    store.add(MigrationTask(task_id, MigrationType.ONLINE, api_version, status))
    return task_id


def test_sdk_mixed_batch_parses_into_success_and_failed_items_with_error_fields(served: Served) -> None:
    restartable, v1, unknown = add_task(served.store), add_task(served.store, api_version="v1"), str(uuid.uuid4())
    client = sdk(served)

    response = client.restart([restartable, v1, unknown])

    assert isinstance(response, BatchRestartOnlineMigrationTasksResponse)
    assert response.status_code == 200
    assert all(isinstance(item, BatchRestartMigrationTaskResult) for item in response.migration_tasks)
    by_id = {item.task_id: item for item in response.migration_tasks}
    assert set(by_id) == {restartable, v1, unknown}
    assert (by_id[restartable].result, by_id[restartable].error_code, by_id[restartable].error_msg) == (
        "success",
        None,
        None,
    )
    assert (by_id[v1].result, by_id[v1].error_code, by_id[v1].error_msg) == ("failed", "dcs.41.0001", "task not v2")
    assert by_id[unknown].result == "failed"
    assert by_id[unknown].error_code and by_id[unknown].error_msg
    assert served.store.get(restartable).status is Status.MIGRATING


def test_sdk_success_response_has_no_request_id_field_but_its_http_response_carries_the_servers(
    served: Served,
) -> None:
    client = sdk(served)
    response = client.restart([add_task(served.store)])
    assert response.status_code == 200
    assert response.to_json_object()["migration_tasks"][0]["result"] == "success"
    # the operation declares no response headers, so the model has no x_request_id: an HttpHandler sees the header
    assert "x_request_id" not in response.attribute_map
    assert not hasattr(response, "x_request_id")
    assert len(client.responses) == 1
    assert client.last_request_id
    assert client.responses[0].status_code == 200


def test_sdk_wrong_secret_key_raises_client_request_exception_401_with_servers_error(served: Served) -> None:
    task_id = add_task(served.store)
    client = sdk(served, sk=SK + "-wrong")

    with pytest.raises(ClientRequestException) as caught:
        client.restart([task_id])

    error = caught.value
    assert error.status_code == 401
    body = client.responses[-1].json()
    assert error.error_code == body["error_code"]
    assert error.error_msg == body["error_msg"]
    assert error.request_id == client.last_request_id
    assert error.request_id
    assert served.store.get(task_id).status is Status.TERMINATED


def test_sdk_readonly_key_raises_client_request_exception_403(served: Served) -> None:
    task_id = add_task(served.store)
    client = sdk(served, ak=RO_AK, sk=RO_SK)

    with pytest.raises(ClientRequestException) as caught:
        client.restart([task_id])

    error = caught.value
    assert error.status_code == 403
    assert error.error_code == client.responses[-1].json()["error_code"]
    assert error.request_id == client.last_request_id
    assert served.store.get(task_id).status is Status.TERMINATED


def test_sdk_invalid_batch_raises_client_request_exception_400_with_servers_error(served: Served) -> None:
    client = sdk(served)
    with pytest.raises(ClientRequestException) as caught:
        client.restart([str(uuid.uuid4()) for _ in range(51)])
    assert caught.value.status_code == 400
    assert caught.value.error_code == client.responses[-1].json()["error_code"]
    assert caught.value.request_id == client.last_request_id


def test_sdk_request_for_another_project_gets_404(served: Served) -> None:
    client = sdk(served)
    client.client.get_credentials().project_id = "another-project"
    with pytest.raises(ClientRequestException) as caught:
        client.restart([add_task(served.store)])
    assert caught.value.status_code == 404
    assert caught.value.request_id == client.last_request_id


def test_sdk_signature_over_a_non_ascii_header_value_is_verified(served: Served) -> None:
    # The SDK signs header values as text and sends them UTF-8 encoded (X-Project-Id carries the project ID);
    # the verifier must read the same text back, so the request passes authentication and only then meets the
    # project restriction (404), instead of being refused as badly signed (401).
    client = sdk(served)
    client.client.get_credentials().project_id = "projet-é"
    with pytest.raises(ClientRequestException) as caught:
        client.restart([add_task(served.store)])
    assert caught.value.status_code == 404, caught.value.error_msg
