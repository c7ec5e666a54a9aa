"""The reference server's HTTP layer: parse strictly, refuse clearly, answer every task of a batch."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Collection
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.contract import ENDPOINT, MAX_BATCH
from conformance.reference.auth import AuthPolicy, Denied
from conformance.reference.store import TaskStore

MAX_BODY_BYTES = 1024 * 1024
log = logging.getLogger(__name__)


class InvalidRequest(Denied):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, code, message)


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error_code": code, "error_msg": message, "error_ext_msg": None}, status_code=status)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused as soon as it grows past ``limit`` so a huge upload never sits in memory."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidRequest("DCS.4800", f"The request body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_task_ids(body: bytes) -> list[str]:
    """The requested task IDs, or InvalidRequest naming what is wrong with the body."""
    if not body.strip():
        raise InvalidRequest("DCS.4004", "The request body is empty.")
    try:
        document: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidRequest("DCS.4005", "The request body has invalid characters or is not JSON.") from None
    if not isinstance(document, dict):
        raise InvalidRequest("DCS.4800", "Invalid request body: a JSON object is expected.")
    if "migration_tasks" not in document:
        raise InvalidRequest("DCS.4800", "Invalid migration_tasks in the request: the field is mandatory.")
    tasks = document["migration_tasks"]
    if not isinstance(tasks, list):
        raise InvalidRequest("DCS.4800", "Invalid migration_tasks in the request: an array of strings is expected.")
    if not tasks:
        raise InvalidRequest("DCS.4800", "Invalid migration_tasks in the request: the list is empty.")
    if len(tasks) > MAX_BATCH:
        raise InvalidRequest("DCS.4800", f"Invalid migration_tasks in the request: at most {MAX_BATCH} tasks per call.")
    if not all(isinstance(task, str) for task in tasks):
        raise InvalidRequest("DCS.4800", "Invalid migration_tasks in the request: every task ID must be a string.")
    return tasks


def create_app(store: TaskStore, auth: AuthPolicy | None = None, projects: Collection[str] = ()) -> ASGIApp:
    """The ASGI app; ``projects`` limits the project IDs served (empty: all of them)."""
    policy = auth or AuthPolicy()
    served = frozenset(projects)

    async def batch_restart(request: Request) -> Response:
        try:
            body = await read_body(request)
            policy.authorize(
                request.method,
                request.scope["raw_path"].decode("latin-1"),
                request.scope["query_string"].decode("latin-1"),
                request.headers,
                body,
            )
            if served and request.path_params["project_id"] not in served:
                raise Denied(404, "DCS.4001", "The project does not exist.")
            outcomes = store.restart_batch(parse_task_ids(body))
        except Denied as refusal:
            return error_response(refusal.status, refusal.code, refusal.message)
        return JSONResponse({"migration_tasks": [outcome.as_json() for outcome in outcomes]})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(404, "DCS.4001", "The requested URL does not exist.")
        if exc.status_code == 405:
            response = error_response(405, "DCS.4003", f"Method {request.method} is not allowed here.")
            response.headers["Allow"] = "POST"
            return response
        return error_response(exc.status_code, "DCS.4000", str(exc.detail))

    app = Starlette(
        routes=[Route(ENDPOINT.replace("{project_id}", "{project_id:str}"), batch_restart, methods=["POST"])],
        exception_handlers={HTTPException: http_error},
    )
    return RequestIdMiddleware(app)


class RequestIdMiddleware:
    """Gives every response an X-Request-Id, and turns any crash into the documented 500 error body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s failed", request_id)
            if started:
                raise
            await error_response(500, "DCS.5000", "Internal service error.")(scope, receive, send_with_id)
