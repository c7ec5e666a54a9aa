"""The reference server's HTTP layer: parse strictly, refuse clearly, answer every task of a batch."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Collection
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.contract import ENDPOINT, MAX_BATCH
from conformance.reference.auth import AuthPolicy, Denied
from conformance.reference.behaviour import Batch, Behaviour, Crash, ErrorAnswer
from conformance.reference.store import TaskStore, no_such_task

MAX_BODY_BYTES = 1024 * 1024
#: Seconds a client has to send the whole body once the head has arrived.
BODY_TIMEOUT = 30.0
log = logging.getLogger(__name__)


class InvalidRequest(Denied):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, code, message)


def error_response(status: int, code: str, message: str, behaviour: Behaviour | None = None) -> Response:
    body = json.dumps({"error_code": code, "error_msg": message, "error_ext_msg": None}).encode()
    answer = ErrorAnswer(status, body)
    if behaviour:
        answer = behaviour.error(answer, code, message)
        content_type = behaviour.content_type(answer.status, answer.content_type)
    else:
        content_type = answer.content_type
    return Response(answer.body, status_code=answer.status, media_type=content_type, headers=dict(answer.headers))


class BodyTimeout(InvalidRequest):
    """The body did not arrive in time; answered, then the connection is closed (the rest may never come)."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES, timeout: float = BODY_TIMEOUT) -> bytes:
    """The body, refused as soon as it grows past ``limit`` so a huge upload never sits in memory, or when it
    takes longer than ``timeout`` seconds, so a client that stops sending cannot hold the connection."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise InvalidRequest("DCS.4800", f"The request body is larger than {limit} bytes.")
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout("DCS.4000", f"The request body was not complete within {timeout:g} s.") from None
    return b"".join(chunks)


def _reject_constant(name: str) -> None:
    """NaN and Infinity are Python's extensions, not JSON."""
    raise ValueError(f"{name} is not JSON")


def parse_task_ids(body: bytes) -> list[str]:
    """The requested task IDs, or InvalidRequest naming what is wrong with the body."""
    if not body.strip():
        raise InvalidRequest("DCS.4004", "The request body is empty.")
    try:
        document: Any = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
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


def create_app(
    store: TaskStore,
    auth: AuthPolicy | None = None,
    projects: Collection[str] = (),
    behaviour: Behaviour | None = None,
    *,
    body_timeout: float = BODY_TIMEOUT,
) -> ASGIApp:
    """The ASGI app; ``projects`` limits the project IDs served (empty: all of them); ``behaviour`` switches on
    deliberate deviations (faults and variants) and is empty for the faithful reference."""
    policy = auth or AuthPolicy()
    served = frozenset(projects)
    mods = behaviour or Behaviour()

    def authorize(request: Request, body: bytes) -> None:
        if mods.bypass_auth(request.headers):
            return
        try:
            policy.authorize(
                request.method,
                request.scope["raw_path"].decode("latin-1"),
                request.scope["query_string"].decode("latin-1"),
                request.headers,
                body,
                same=mods.token_matches,
            )
        except Denied as refusal:
            if not mods.tolerate(refusal.status):
                raise

    async def batch_restart(request: Request) -> Response:
        if delay := mods.delay():
            await asyncio.sleep(delay)
        try:
            body = await read_body(request, timeout=body_timeout)
            authorize(request, body)
            project = request.path_params["project_id"]
            foreign = bool(served) and project not in served
            if foreign and not mods.serves_project(project):
                raise Denied(404, "DCS.4001", "The project does not exist.")
            batch = Batch(mods.parse(body, parse_task_ids), store, mods.rng, foreign_project=foreign)
            mods.admit(batch)
            # A project the server does not serve holds none of its tasks: nothing there can be restarted.
            restarted = (
                [no_such_task(task) for task in dict.fromkeys(batch.requested)]
                if foreign
                else store.restart_batch(batch.requested)
            )
            outcomes = mods.outcomes(batch, restarted)
            status = mods.status(batch, outcomes)
            if status >= 400:
                raise Denied(status, "DCS.4800", "The batch cannot be processed.")
        except Denied as refusal:
            response = error_response(refusal.status, refusal.code, refusal.message, mods)
            if isinstance(refusal, BodyTimeout):
                response.headers["Connection"] = "close"
            return response
        except Crash:
            return error_response(500, "DCS.5000", "Internal service error.", mods)
        document = mods.document(batch, {"migration_tasks": [outcome.as_json() for outcome in outcomes]})
        # ASCII escapes keep any requested string answerable, lone surrogates included.
        content = mods.encoded(batch, json.dumps(document).encode("ascii"))
        answer = CutShort if mods.cut_short(batch) else Response
        return answer(content, status_code=status, media_type=mods.content_type(status))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return error_response(404, "DCS.4001", "The requested URL does not exist.", mods)
        if exc.status_code == 405:
            response = error_response(405, "DCS.4003", f"Method {request.method} is not allowed here.", mods)
            response.headers["Allow"] = "POST"
            return response
        return error_response(exc.status_code, "DCS.4000", str(exc.detail), mods)

    async def crash(request: Request, exc: Exception) -> Response:
        log.error("unhandled error: %r", exc)
        return error_response(500, "DCS.5000", "Internal service error.", mods)

    app = Starlette(
        routes=[Route(ENDPOINT.replace("{project_id}", "{project_id:str}"), batch_restart, methods=["POST"])],
        exception_handlers={HTTPException: http_error, Exception: crash},
    )
    # A trailing slash is another URL (404), never a redirect: 307 is not a documented status.
    app.router.redirect_slashes = False
    return RequestIdMiddleware(app)


class CutShort(Response):
    """An answer that declares its whole length, sends half of it and ends: the server closes the connection with
    the response incomplete (a fault: a client never gets a complete answer)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _quiet_uvicorn_about_cut_answers()
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True})


class _CutAnswersAreDeliberate(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def _quiet_uvicorn_about_cut_answers() -> None:
    """uvicorn logs an error for every answer left incomplete; for a fault that does it on purpose, the suite's
    report is where it belongs, not the terminal of the run."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, _CutAnswersAreDeliberate) for existing in logger.filters):
        logger.addFilter(_CutAnswersAreDeliberate())


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
            # Starlette has already answered with the JSON 500 of the app's handler when the response started.
            log.exception("request %s failed", request_id)
            if not started:
                await error_response(500, "DCS.5000", "Internal service error.")(scope, receive, send_with_id)
