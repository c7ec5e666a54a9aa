"""conformance.engine.client.TargetClient: the one door every request passes through.

It must refuse IDs it may not send before anything reaches the wire, keep to the budget and the rate limit, sign
AK/SK requests exactly as conformance.wire.signing verifies them (and break them on purpose when asked), and never
record a secret.
"""

from __future__ import annotations

import email.utils
import gzip
import itertools
import json
import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from conformance.config.credentials import near_miss_tokens
from conformance.contract.task_ids import TASK_ID_SHAPE
from conformance.engine.client import (
    CONNECT_RETRIES,
    OTHER_SIGNED_BODY,
    PROBE_LABEL,
    RETRY_AFTER_CAP_S,
    STOP_AFTER_THROTTLED,
    STOP_AFTER_UNANSWERED,
    THROTTLE_RESENDS,
    THROTTLE_WAIT_BUDGET_S,
    Auth,
    BudgetExhausted,
    Credentials,
    TargetClient,
    TargetStopped,
    TargetThrottling,
    TargetUnreachable,
    default_tls_context,
    retry_after,
)
from conformance.engine.guard import GuardRefusal, IdGuard
from conformance.judging.results import EvidenceRecord, Exchange
from conformance.report.build import evidence, response
from conformance.support.errors import RequestSignatureError
from conformance.support.redaction import MASK
from conformance.wire import signing

BASE = "http://target.test"
PATH = "/v2/proj/migration-tasks/batch-restart"
URL = BASE + PATH
REAL_TASK = "091434c0-d6d7-47c6-9e14-17cc9502b27b"  # a task ID nobody gave this run
RESTARTABLE = "7599c3ed-d0d3-4fb9-9273-653160302023"
NOT_RESTARTABLE = "5e3a2f10-0b7c-4c1e-9d2a-6f8e1b4c7a90"
TOKEN = "tok-SECRET-123"
AK = "HPUAEXAMPLEAK0000001"
SK = "sEcReTkEy0123456789abcdefghijklmnopqrstu"
RO_AK = "HPUAREADONLYAK000002"
RO_SK = "r3adOnlySecretKey0123456789abcdefghijklm"


def body(*task_ids: str) -> bytes:
    return json.dumps({"migration_tasks": list(task_ids)}).encode()


def ok_answer(request: httpx.Request) -> httpx.Response:
    try:
        ids = json.loads(request.content)["migration_tasks"]
    except (ValueError, KeyError, TypeError):
        return httpx.Response(400, json={"error_code": "DCS.4000", "error_msg": "Invalid request."})
    items = [{"task_id": task, "result": "failed", "error_code": "DCS.4957", "error_msg": "no"} for task in ids]
    return httpx.Response(200, json={"migration_tasks": items}, headers={"X-Request-Id": "req-1"})


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def route(mock: respx.MockRouter) -> respx.Route:
    return mock.post(PATH).mock(side_effect=ok_answer)


def fixtures_guard() -> IdGuard:
    return IdGuard(restartable=[RESTARTABLE], not_restartable=[NOT_RESTARTABLE])


def verify(request: httpx.Request, known: dict[str, str] | None = None) -> str:
    """Verify a captured request as a server would: raw path and query, wire headers, wire body."""
    raw_path, _, query = request.url.raw_path.partition(b"?")
    secrets = known if known is not None else {AK: SK}
    return signing.verify(
        request.method, raw_path.decode(), query.decode(), request.headers, request.content, secrets.get
    )


def dumped(exchange: Exchange) -> str:
    return json.dumps(evidence(EvidenceRecord(exchange.record(), "explanation")), ensure_ascii=False)


# -- the ID guard -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task_id",
    [
        REAL_TASK,
        REAL_TASK.upper(),
        REAL_TASK.replace("-", ""),
        f"prefix-{REAL_TASK}-suffix",
        str(uuid.UUID(int=7, version=4)),
    ],
    ids=["uuid", "upper-case", "no-dashes", "embedded", "other-uuid"],
)
def test_guard_refuses_unminted_uuid_and_nothing_is_sent(route: respx.Route, task_id: str) -> None:
    with TargetClient(BASE, "proj") as client:
        minted = client.guard.mint()
        with pytest.raises(GuardRefusal, match="refused to send task ID") as refusal:
            client.post(body(minted, task_id))
    assert route.call_count == 0
    assert TASK_ID_SHAPE.search(task_id).group(0) in str(refusal.value)
    assert client.sent == 0


def test_guard_refusal_of_a_long_id_names_only_the_task_shaped_part(route: respx.Route) -> None:
    task_id = REAL_TASK + "x" * 500
    with TargetClient(BASE, "proj") as client, pytest.raises(GuardRefusal) as refusal:
        client.post(body(task_id))
    assert route.call_count == 0
    assert REAL_TASK in str(refusal.value)
    assert len(str(refusal.value)) < 200


def test_minted_ids_pass_the_guard_in_any_case(route: respx.Route) -> None:
    with TargetClient(BASE, "proj") as client:
        minted = [client.guard.mint() for _ in range(3)]
        upper = client.guard.mint().upper()
        for _ in range(2):
            ex = client.post(body(*minted, upper))
            assert ex.status == 200
    assert route.call_count == 2
    assert json.loads(route.calls.last.request.content)["migration_tasks"] == [*minted, upper]


def test_a_minter_of_its_own_mints_the_same_ids_whoever_mints_first_and_they_pass_the_guard() -> None:
    first, second = IdGuard(rng=random.Random(1)), IdGuard(rng=random.Random(1))
    alone = first.minter(random.Random(2))
    from_lane = [alone() for _ in range(3)]
    second.mint()  # another phase mints from the guard's own stream meanwhile
    interleaved = second.minter(random.Random(2))
    assert [interleaved() for _ in range(3)] == from_lane
    assert all(second.is_minted(task) for task in from_lane)
    second.admit(body(*from_lane))


def test_fixture_ids_pass_the_guard(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", guard=fixtures_guard()) as client:
        client.post(body(RESTARTABLE, NOT_RESTARTABLE))
    assert route.call_count == 1


def test_restartable_fixture_is_sent_once_and_refused_the_second_time(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", guard=fixtures_guard()) as client:
        client.post(body(RESTARTABLE))
        with pytest.raises(GuardRefusal, match=RESTARTABLE):
            client.post(body(NOT_RESTARTABLE, RESTARTABLE))
    assert route.call_count == 1


def test_non_restartable_fixture_may_be_sent_again_and_again(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", guard=fixtures_guard()) as client:
        for _ in range(3):
            client.post(body(NOT_RESTARTABLE))
    assert route.call_count == 3


@pytest.mark.parametrize(
    "task_id",
    ["", "   ", "task-1", "12345", "迁移任务-é", "🚀", "../x?y=1#", '"\\', "0914-34c0-d6d7", "g" * 36, "x" * 1024],
)
def test_ids_that_do_not_look_like_task_ids_pass_the_guard(route: respx.Route, task_id: str) -> None:
    with TargetClient(BASE, "proj") as client:
        client.post(body(task_id))
    assert route.call_count == 1


@pytest.mark.parametrize(
    "raw",
    [b"", b"restart everything", b'{"migration_tasks": ["not-a-task"', b"null", json.dumps([1, 2]).encode()],
    ids=["empty", "plain-text", "truncated-json", "json-null", "array-body"],
)
def test_bodies_without_a_task_shaped_id_pass_the_guard(route: respx.Route, raw: bytes) -> None:
    with TargetClient(BASE, "proj") as client:
        client.post(raw)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "raw",
    [
        b'{"migration_tasks": ["' + REAL_TASK.encode() + b'"',
        json.dumps([REAL_TASK]).encode(),
        json.dumps({"migration_tasks": [{"task_id": REAL_TASK}]}).encode(),
        json.dumps({"other": REAL_TASK}).encode(),
    ],
    ids=["truncated-json", "array-body", "object-items", "other-field"],
)
def test_an_unminted_task_id_anywhere_in_any_body_is_refused(route: respx.Route, raw: bytes) -> None:
    """A lenient or differently shaped server might still read the ID, so the guard scans the raw body."""
    with TargetClient(BASE, "proj") as client, pytest.raises(GuardRefusal):
        client.post(raw)
    assert route.call_count == 0


def test_guard_refuses_unminted_uuid_in_a_body_that_is_not_valid_utf8(route: respx.Route) -> None:
    """Python's json refuses this body, but lenient JSON servers (Go's encoding/json replaces invalid UTF-8 with
    U+FFFD) read it and would restart REAL_TASK: the guard must not take "Python cannot parse it" for "no server
    can"."""
    raw = b'{"migration_tasks": ["' + REAL_TASK.encode() + b'", "\xff\xfe"]}'
    with TargetClient(BASE, "proj") as client, pytest.raises(GuardRefusal):
        client.post(raw)
    assert route.call_count == 0


# -- budget and rate limit ------------------------------------------------------------------------------------------


def test_budget_allows_n_requests_and_refuses_the_next_without_sending(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", max_requests=3) as client:
        for _ in range(3):
            client.post(body("a"))
        with pytest.raises(BudgetExhausted, match="budget of 3"):
            client.post(body("a"))
        with pytest.raises(BudgetExhausted):
            client.post(body("a"))
    assert route.call_count == 3
    assert client.sent == 3


def test_guard_refusal_spends_no_budget(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", max_requests=1) as client:
        with pytest.raises(GuardRefusal):
            client.post(body(REAL_TASK))
        assert client.post(body("a")).status == 200
    assert route.call_count == 1


class FakeClock:
    """Time that passes only when the client sleeps: the rate limit is tested without waiting for real."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limit_spaces_requests(route: respx.Route) -> None:
    clock = FakeClock()
    with TargetClient(BASE, "proj", rate_limit=50, clock=clock, sleep=clock.sleep) as client:
        for _ in range(5):
            client.post(body("a"))
    assert route.call_count == 5
    assert clock.slept == pytest.approx([0.02] * 4)


def test_request_times_are_spaced_by_the_rate_limit(mock: respx.MockRouter) -> None:
    clock = FakeClock()
    stamps: list[float] = []

    def stamp(request: httpx.Request) -> httpx.Response:
        stamps.append(clock())
        clock.now += 0.005  # the target takes 5 ms to answer: the limit waits only for what is left of a slot
        return ok_answer(request)

    mock.post(PATH).mock(side_effect=stamp)
    with TargetClient(BASE, "proj", rate_limit=40, clock=clock, sleep=clock.sleep) as client:
        for _ in range(4):
            client.post(body("a"))
    gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert gaps == pytest.approx([0.025] * 3)
    assert clock.slept == pytest.approx([0.02] * 3)


# -- what an exchange records ----------------------------------------------------------------------------------------


def test_exchange_records_request_and_response(route: respx.Route) -> None:
    with TargetClient(BASE, "proj") as client:
        ex = client.post_json({"migration_tasks": ["a", "é"]}, label="my label")
    assert (ex.method, ex.url, ex.status, ex.label) == ("POST", URL, 200, "my label")
    assert json.loads(ex.request_body) == {"migration_tasks": ["a", "é"]}
    assert ex.header("x-request-id") == "req-1"
    assert ex.response_json["migration_tasks"][1]["task_id"] == "é"
    assert route.calls.last.request.headers["Content-Type"] == "application/json;charset=utf-8"


def test_headers_are_recorded_as_sent_and_received_repeated_ones_joined_in_order(mock: respx.MockRouter) -> None:
    received = [
        ("X-Request-Id", "req-1"),
        ("Set-Cookie", "a=1"),
        ("content-type", "application/json"),
        ("set-cookie", "b=2"),
    ]
    mock.post(PATH).mock(return_value=httpx.Response(200, headers=received, content=b"{}"))
    with TargetClient(BASE, "proj") as client:
        ex = client.post(body("a"))
    sent = mock.calls.last.request.headers
    assert list(ex.request_headers.items()) == list(dict(sent).items())
    joined = [("x-request-id", "req-1"), ("set-cookie", "a=1, b=2"), ("content-type", "application/json")]
    assert list(ex.response_headers.items()) == [*joined, ("content-length", "2")]


def test_content_type_can_be_changed_or_left_out(route: respx.Route) -> None:
    with TargetClient(BASE, "proj") as client:
        client.post(b"x", content_type="text/plain")
        assert route.calls.last.request.headers["Content-Type"] == "text/plain"
        client.post(b"x", content_type=None)
        assert "Content-Type" not in route.calls.last.request.headers


def test_project_id_override_is_percent_encoded_into_the_path(mock: respx.MockRouter) -> None:
    other = mock.post("/v2/no%20such%2Fproject/migration-tasks/batch-restart").mock(side_effect=ok_answer)
    with TargetClient(BASE, "proj") as client:
        ex = client.post(body("a"), project_id="no such/project")
    assert other.call_count == 1
    assert ex.url == BASE + "/v2/no%20such%2Fproject/migration-tasks/batch-restart"


# -- redaction ------------------------------------------------------------------------------------------------------


def echo_secrets(request: httpx.Request) -> httpx.Response:
    """A careless server that echoes every credential it received, in the body and in headers."""
    echoed = {
        name: value for name, value in request.headers.items() if name.lower() in ("x-auth-token", "authorization")
    }
    return httpx.Response(
        401,
        json={"error_code": "DCS.1001", "error_msg": f"bad credential {echoed} {TOKEN} {AK} {SK}", "echo": echoed},
        headers={
            "X-Echo-Token": TOKEN,
            "X-Subject-Token": TOKEN,
            "X-Echo-Auth": f"{AK}:{SK}",
            "X-Request-Id": f"req-{TOKEN}",
        },
    )


def test_token_is_sent_but_never_recorded(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(side_effect=echo_secrets)
    with TargetClient(BASE, "proj", credentials=Credentials(token=TOKEN)) as client:
        ex = client.post(body("a"))
    assert route.calls.last.request.headers["X-Auth-Token"] == TOKEN
    assert ex.request_headers["x-auth-token"] == MASK
    assert TOKEN not in dumped(ex)
    assert MASK in ex.response_body.decode()
    assert ex.header("X-Echo-Token") == MASK


def test_wrong_token_is_random_and_redacted(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(side_effect=echo_secrets)
    with TargetClient(BASE, "proj", credentials=Credentials(token=TOKEN)) as client:
        ex = client.post(body("a"), auth=Auth.WRONG_TOKEN)
    sent = route.calls.last.request.headers["X-Auth-Token"]
    assert sent != TOKEN
    assert len(sent) >= 32
    assert ex.request_headers["x-auth-token"] == MASK


@pytest.mark.parametrize(
    ("auth", "expected"),
    [(Auth.NEAR_MISS_TOKEN, "tok-SECRET-124"), (Auth.TRUNCATED_TOKEN, "tok-SECRET-12")],
)
def test_near_miss_tokens_differ_from_the_real_one_only_at_its_end(
    mock: respx.MockRouter, auth: Auth, expected: str
) -> None:
    route = mock.post(PATH).mock(side_effect=echo_secrets)
    with TargetClient(BASE, "proj", credentials=Credentials(token=TOKEN)) as client:
        client.post(body("a"), auth=auth)
    assert route.calls.last.request.headers["X-Auth-Token"] == expected


@pytest.mark.parametrize(
    ("token", "near_miss"),
    [("s3cret-token-0009", "s3cret-token-0000"), ("abcz", "abca"), ("ABCZ", "ABCA"), ("tok=", "tok0")],
)
def test_near_miss_token_changes_the_last_character_within_its_kind(token: str, near_miss: str) -> None:
    assert near_miss_tokens(token) == (near_miss, token[:-1])


def test_near_miss_tokens_are_redacted_wherever_a_target_reflects_them(mock: respx.MockRouter) -> None:
    """One character from the real token, they are as secret as the token: a target that quotes the token it got
    (\"invalid token: ...\") must not put almost all of the real one into the report."""
    near_misses = near_miss_tokens(TOKEN)

    def reflect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, json={"error_code": "DCS.1001", "error_msg": f"bad {request.headers['X-Auth-Token']}"}
        )

    mock.post(PATH).mock(side_effect=reflect)
    with TargetClient(BASE, "proj", credentials=Credentials(token=TOKEN)) as client:
        exchanges = [client.post(body("a"), auth=how) for how in (Auth.NEAR_MISS_TOKEN, Auth.TRUNCATED_TOKEN)]
    for ex in exchanges:
        text = dumped(ex)
        assert MASK in ex.response_body.decode()
        assert not any(near_miss in text for near_miss in near_misses)


@pytest.mark.parametrize(
    "auth", [Auth.DEFAULT, Auth.UNKNOWN_KEY, Auth.WRONG_SECRET, Auth.TAMPERED_BODY, Auth.OTHER_BODY, Auth.STALE_DATE]
)
def test_aksk_authorization_is_redacted_and_keys_never_recorded(mock: respx.MockRouter, auth: Auth) -> None:
    route = mock.post(PATH).mock(side_effect=echo_secrets)
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        ex = client.post(body("a"), auth=auth)
    assert route.calls.last.request.headers["Authorization"].startswith(signing.ALGORITHM)
    assert ex.request_headers["authorization"] == MASK
    text = dumped(ex)
    assert AK not in text
    assert SK not in text


def test_readonly_secrets_are_redacted_too(mock: respx.MockRouter) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error_code": "DCS.1100", "error_msg": f"{RO_AK} {RO_SK} ro-TOKEN-987"})

    mock.post(PATH).mock(side_effect=echo)
    credentials = Credentials(token=TOKEN, readonly_token="ro-TOKEN-987", readonly_ak=RO_AK, readonly_sk=RO_SK)
    with TargetClient(BASE, "proj", credentials=credentials) as client:
        text = dumped(client.post(body("a"), auth=Auth.READONLY))
    for secret in (RO_AK, RO_SK, "ro-TOKEN-987"):
        assert secret not in text


# -- authentication -------------------------------------------------------------------------------------------------


def test_aksk_request_carries_a_signature_the_verifier_accepts(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        client.post(body("a", "b"))
    request = route.calls.last.request
    assert verify(request) == AK
    assert request.headers["X-Project-Id"] == "proj"
    assert "host" in request.headers["Authorization"]


@pytest.mark.parametrize("project_id", ["other-project", "no such/project", "p~q+r"])
def test_aksk_signature_holds_for_a_project_id_that_needs_encoding(mock: respx.MockRouter, project_id: str) -> None:
    route = mock.route(method="POST").mock(side_effect=ok_answer)
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        client.post(body("a"), project_id=project_id)
    request = route.calls.last.request
    assert verify(request) == AK
    assert request.headers["X-Project-Id"] == project_id


def test_aksk_signature_holds_for_a_body_with_non_ascii_ids(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        client.post_json({"migration_tasks": ["迁移任务-é", "🚀"]})
    assert verify(route.calls.last.request) == AK


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        (Auth.WRONG_SECRET, "signature mismatch"),
        (Auth.TAMPERED_BODY, "signature mismatch"),
        (Auth.OTHER_BODY, "signature mismatch"),
        (Auth.STALE_DATE, "behind the server clock"),
        (Auth.UNKNOWN_KEY, "unknown access key"),
    ],
)
def test_broken_aksk_modes_send_requests_the_verifier_rejects(route: respx.Route, auth: Auth, reason: str) -> None:
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        client.post(body("a"), auth=auth)
    with pytest.raises(RequestSignatureError, match=reason):
        verify(route.calls.last.request)


def test_tampered_body_is_the_signed_body_plus_a_change(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        ex = client.post(body("a"), auth=Auth.TAMPERED_BODY)
    sent = route.calls.last.request.content
    assert sent != body("a")
    assert json.loads(sent) == {"migration_tasks": ["a"]}
    assert ex.request_body == sent


def test_other_body_is_sent_as_given_with_a_signature_valid_for_another_body(route: respx.Route) -> None:
    with TargetClient(BASE, "proj", credentials=Credentials(ak=AK, sk=SK)) as client:
        client.post(body("a"), auth=Auth.OTHER_BODY)
    request = route.calls.last.request
    assert request.content == body("a")
    forged = httpx.Request(request.method, request.url, headers=request.headers, content=OTHER_SIGNED_BODY)
    assert verify(forged) == AK


@pytest.mark.parametrize(
    "credentials",
    [Credentials(token=TOKEN), Credentials(ak=AK, sk=SK), Credentials()],
    ids=["token", "aksk", "none-configured"],
)
def test_auth_none_sends_no_credential_headers(route: respx.Route, credentials: Credentials) -> None:
    with TargetClient(BASE, "proj", credentials=credentials) as client:
        client.post(body("a"), auth=Auth.NONE)
    headers = route.calls.last.request.headers
    for name in ("X-Auth-Token", "Authorization", "X-Sdk-Date"):
        assert name not in headers


def test_readonly_token_is_sent_instead_of_the_main_token(route: respx.Route) -> None:
    credentials = Credentials(token=TOKEN, readonly_token="ro-TOKEN-987")
    with TargetClient(BASE, "proj", credentials=credentials) as client:
        client.post(body("a"), auth=Auth.READONLY)
    assert route.calls.last.request.headers["X-Auth-Token"] == "ro-TOKEN-987"


def test_readonly_aksk_signs_with_the_readonly_key(route: respx.Route) -> None:
    credentials = Credentials(token=TOKEN, readonly_ak=RO_AK, readonly_sk=RO_SK)
    with TargetClient(BASE, "proj", credentials=credentials) as client:
        client.post(body("a"), auth=Auth.READONLY)
    request = route.calls.last.request
    assert "X-Auth-Token" not in request.headers
    assert verify(request, {RO_AK: RO_SK}) == RO_AK


@pytest.mark.parametrize(
    ("credentials", "header"),
    [
        (Credentials(readonly_token="ro-TOKEN-987"), "X-Auth-Token"),
        (Credentials(readonly_ak=RO_AK, readonly_sk=RO_SK), "Authorization"),
    ],
    ids=["readonly-token", "readonly-aksk"],
)
def test_readonly_credential_is_sent_even_without_main_credentials(
    route: respx.Route, credentials: Credentials, header: str
) -> None:
    """settings.resolve accepts a read-only credential alone, and the BR-REQ-020 scenario then sends Auth.READONLY:
    the request must carry that credential, or the 403 check is judged on an unauthenticated request."""
    with TargetClient(BASE, "proj", credentials=credentials) as client:
        client.post(body("a"), auth=Auth.READONLY)
    assert header in route.calls.last.request.headers


# -- one request, one outcome --------------------------------------------------------------------------------------


def quiet_client(**kwargs: object) -> TargetClient:
    """A client whose waits (connect retries, Retry-After) are recorded instead of slept."""
    waits: list[float] = []
    client = TargetClient(BASE, "proj", sleep=waits.append, **kwargs)  # type: ignore[arg-type]
    client.waits = waits  # type: ignore[attr-defined]
    return client


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError, httpx.ConnectError("[Errno 111] Connection refused"), httpx.ConnectTimeout("timed out")],
    ids=["connect-error-class", "connection-refused", "connect-timeout"],
)
def test_a_target_never_reached_raises_target_unreachable_with_one_line(mock: respx.MockRouter, error: object) -> None:
    route = mock.post(PATH).mock(side_effect=error)
    with quiet_client() as client, pytest.raises(TargetUnreachable) as unreachable:
        client.post(body("a"))
    message = str(unreachable.value)
    assert "\n" not in message
    assert message.startswith("Connect")
    assert f"on POST {URL}" in message
    assert route.call_count == 1 + CONNECT_RETRIES, "a request that never reached the target may be sent again"
    assert client.sent == 0, "attempts that never reached the target do not spend the budget"


def test_a_connect_error_is_retried_and_the_answer_used(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={})])
    with quiet_client() as client:
        exchange = client.post(body("a"))
    assert (exchange.status, exchange.complete, route.call_count, client.sent) == (200, True, 2, 1)


def test_a_connect_retry_overtaken_by_another_request_gets_a_number_of_its_own(mock: respx.MockRouter) -> None:
    """Request numbers are unique and in the order requests went out: the judging records an exchange once by its
    number, and findings name requests by it. A connect failure gives its budget back; the number the other worker
    took meanwhile must not be handed out a second time to the retry sent after it."""
    second_sent = threading.Event()
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content)["migration_tasks"][0])
        if calls[-1] == "b" and calls.count("b") == 1:
            assert second_sent.wait(5), "the other request never went out"
            raise httpx.ConnectError("refused")
        if calls[-1] == "c":
            second_sent.set()
        return httpx.Response(200, json={})

    mock.post(PATH).mock(side_effect=answer)
    exchanges: dict[str, Exchange] = {}
    with quiet_client() as client:
        exchanges["a"] = client.post(body("a"))  # the run's first request goes alone
        first = threading.Thread(target=lambda: exchanges.update(b=client.post(body("b"))))
        first.start()
        while not calls.count("b"):
            time.sleep(0.001)
        exchanges["c"] = client.post(body("c"))  # numbered while b's connect attempt is out
        first.join(5)
    assert [exchanges[name].seq for name in "acb"] == [1, 3, 4], "b's retry went out after request #3"
    assert client.sent == 3, "the failed connect attempt still spends no budget"


def test_a_lone_connect_retry_keeps_its_number(mock: respx.MockRouter) -> None:
    """With nobody overtaking it, a request retried after a connect failure keeps the number it had: the numbers of
    a run stay 1, 2, 3... without holes."""
    mock.post(PATH).mock(side_effect=[httpx.ConnectError("refused"), ok_answer, ok_answer])
    with quiet_client() as client:
        numbers = [client.post(body("a")).seq, client.post(body("b")).seq]
    assert numbers == [1, 2]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ReadTimeout("timed out"), "no answer: ReadTimeout after 30 s"),
        (httpx.RemoteProtocolError("illegal status line: b'SSH-2.0'"), "no answer: the answer is not valid HTTP"),
    ],
    ids=["timeout", "not-http"],
)
def test_a_request_without_an_answer_is_an_exchange_without_a_status(
    mock: respx.MockRouter, error: Exception, expected: str
) -> None:
    mock.post(PATH).mock(side_effect=error)
    with quiet_client() as client:
        exchange = client.post(body("a"), label="probe")
    assert exchange.status == 0
    assert not exchange.complete
    assert exchange.failure is not None and exchange.failure.startswith(expected)
    assert response(exchange.record())["status"] is None
    assert response(exchange.record())["failure"] == exchange.failure
    assert client.unanswered == 1


def test_a_dropped_reused_connection_is_resent_once_and_the_first_failure_kept(mock: respx.MockRouter) -> None:
    """respx opens no TCP connection, so every request looks like one on a reused keep-alive connection."""
    route = mock.post(PATH).mock(side_effect=[httpx.ReadError("Connection reset by peer"), ok_answer])
    with quiet_client() as client:
        minted = client.guard.mint()
        exchange = client.post(body(minted))
    assert route.call_count == 2
    assert exchange.status == 200
    assert exchange.earlier_failure is not None and "ReadError" in exchange.earlier_failure
    assert "reused keep-alive connection" in exchange.earlier_failure


def test_a_request_naming_a_restartable_fixture_is_never_sent_twice(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(side_effect=[httpx.ReadError("Connection reset by peer"), ok_answer])
    with quiet_client(guard=IdGuard([RESTARTABLE])) as client:
        exchange = client.post(body(RESTARTABLE))
    assert route.call_count == 1
    assert exchange.failure is not None and "ReadError" in exchange.failure


def test_a_timeout_is_not_resent(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(side_effect=httpx.ReadTimeout("timed out"))
    with quiet_client() as client:
        client.post(body("a"))
    assert route.call_count == 1


def test_five_requests_in_a_row_without_an_answer_and_an_unanswered_probe_stop_the_run(
    mock: respx.MockRouter,
) -> None:
    route = mock.post(PATH).mock(
        side_effect=[ok_answer(httpx.Request("POST", URL, content=body("a")))]
        + [httpx.ReadTimeout("timed out")] * (STOP_AFTER_UNANSWERED + 1)
    )
    with quiet_client() as client:
        assert client.post(body("a")).complete
        for _ in range(STOP_AFTER_UNANSWERED):
            assert not client.post(body("a")).complete
        with pytest.raises(TargetStopped) as stopped:
            client.post(body("a"))
        probes = client.take_probes()
    assert str(stopped.value).startswith("the target stopped answering after request #1:")
    assert f"{STOP_AFTER_UNANSWERED} requests in a row got no complete answer, nor did a probe" in str(stopped.value)
    assert client.sent == route.call_count == 1 + STOP_AFTER_UNANSWERED + 1
    assert [probe.label for probe in probes] == [PROBE_LABEL]
    sent = json.loads(route.calls[-1].request.content)["migration_tasks"]
    assert len(sent) == 1 and client.guard.is_minted(sent[0]), "the probe names one minted ID: it restarts nothing"


def test_a_target_that_answers_the_probe_is_still_judged_after_five_unanswered_requests(
    mock: respx.MockRouter,
) -> None:
    """A target that never answers one kind of request (large batches, bodies it cannot parse) has not stopped
    answering: the probe's answer lets the run go on, and the unanswered requests stay findings."""
    answered = httpx.Response(200, json={"migration_tasks": []})
    route = mock.post(PATH).mock(
        side_effect=[httpx.ReadTimeout("timed out")] * STOP_AFTER_UNANSWERED + [answered, answered]
    )
    with quiet_client() as client:
        for _ in range(STOP_AFTER_UNANSWERED):
            assert not client.post(body("a")).complete
        assert client.post(body("a")).complete
        probes = client.take_probes()
        assert client.take_probes() == [], "each probe is handed over once"
    assert route.call_count == STOP_AFTER_UNANSWERED + 2
    assert [probe.status for probe in probes] == [200]
    assert client.unanswered == STOP_AFTER_UNANSWERED


def test_an_answer_between_failures_resets_the_count(mock: respx.MockRouter) -> None:
    timeouts = [httpx.ReadTimeout("timed out")] * (STOP_AFTER_UNANSWERED - 1)
    mock.post(PATH).mock(side_effect=[*timeouts, httpx.Response(400, json={}), *timeouts, httpx.Response(200)])
    with quiet_client() as client:
        for _ in range(2 * STOP_AFTER_UNANSWERED):
            client.post(body("a"))
    assert client.unanswered == 2 * (STOP_AFTER_UNANSWERED - 1)


# -- bounded responses ------------------------------------------------------------------------------------------


def test_a_body_over_the_cap_is_cut_and_named_with_its_status_kept(mock: respx.MockRouter) -> None:
    mock.post(PATH).mock(return_value=httpx.Response(200, content=b"[" * 5000))
    with quiet_client(max_response_bytes=1024) as client:
        exchange = client.post(body("a"))
    assert exchange.status == 200
    assert exchange.failure is not None and "exceeds 1024 bytes" in exchange.failure
    assert len(exchange.response_body) <= 1024


def test_the_cap_applies_after_decompression(mock: respx.MockRouter) -> None:
    bomb = gzip.compress(b" " * 200_000)
    mock.post(PATH).mock(
        return_value=httpx.Response(200, stream=httpx.ByteStream(bomb), headers={"Content-Encoding": "gzip"})
    )
    with quiet_client(max_response_bytes=4096) as client:
        exchange = client.post(body("a"))
    assert len(bomb) < 4096
    assert exchange.failure is not None and "after decompression" in exchange.failure


def test_an_undecodable_body_is_a_failure_not_a_crash(mock: respx.MockRouter) -> None:
    mock.post(PATH).mock(
        return_value=httpx.Response(200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"})
    )
    with quiet_client() as client:
        exchange = client.post(body("a"))
    assert exchange.failure is not None and "cannot be decoded" in exchange.failure


# -- throttling -------------------------------------------------------------------------------------------------


def test_a_429_is_resent_after_retry_after_and_the_answer_used(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(503), ok_answer]
    )
    with quiet_client() as client:
        exchange = client.post(body("a"))
    assert (exchange.status, exchange.throttled, route.call_count) == (200, False, 3)
    assert client.waits == [2.0, 2.0]  # type: ignore[attr-defined]
    assert client.sent == 3, "every resend reached the target and spends the budget"


def test_a_request_throttled_after_every_resend_is_marked_and_never_judged(mock: respx.MockRouter) -> None:
    route = mock.post(PATH).mock(return_value=httpx.Response(429, headers={"Retry-After": "0"}))
    with quiet_client() as client:
        exchange = client.post(body("a"))
    assert exchange.throttled and not exchange.judgeable
    assert route.call_count == 1 + THROTTLE_RESENDS


def test_a_target_that_throttles_everything_ends_the_run(mock: respx.MockRouter) -> None:
    mock.post(PATH).mock(return_value=httpx.Response(429, headers={"Retry-After": "0"}))
    with quiet_client() as client:
        for _ in range(STOP_AFTER_THROTTLED):
            client.post(body("a"))
        with pytest.raises(TargetThrottling):
            client.post(body("a"))


@pytest.mark.parametrize(
    ("value", "attempt", "expected"),
    [
        ("3", 1, 3.0),
        ("0", 1, 0.0),
        ("120", 1, RETRY_AFTER_CAP_S),
        ("-5", 1, 0.0),
        ("nan", 1, 1.0),
        ("soon", 2, 2.0),
        (None, 3, 4.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1, 0.0),
    ],
)
def test_retry_after_is_honoured_in_seconds_or_as_a_date_and_capped(
    value: str | None, attempt: int, expected: float
) -> None:
    assert retry_after(value, attempt) == expected


def test_retry_after_as_a_future_http_date() -> None:
    future = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 15 <= retry_after(future, 1) <= 20


def test_the_run_s_first_request_goes_alone_whichever_thread_sends_the_next() -> None:
    """A target that cannot be reached is tried once, not once per phase running beside another."""
    first_arrived, release = threading.Event(), threading.Event()
    arrivals: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            first_arrived.set()
            release.wait(timeout=10)
        return httpx.Response(200, json={"migration_tasks": []})

    with respx.mock(base_url=BASE) as router:
        router.post(url__regex=r".*").mock(side_effect=answer)
        with TargetClient(BASE, "proj") as client:
            first = threading.Thread(target=lambda: client.post_json({"migration_tasks": []}))
            first.start()
            assert first_arrived.wait(timeout=10)
            second = threading.Thread(target=lambda: client.post_json({"migration_tasks": []}))
            second.start()
            second.join(timeout=0.3)
            assert len(arrivals) == 1, "the second request waits for the first one's outcome"
            release.set()
            first.join(timeout=10)
            second.join(timeout=10)
    assert len(arrivals) == 2


# -- headers are data -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308, 200])
@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        "mailto:ops@example.com",
        "http://xn--a.-.example/",
        "http://[::1/",
        "http://a b/",
        "no-slash",
    ],
    ids=["javascript", "mailto", "bad-idna", "bad-ipv6", "space", "relative"],
)
def test_a_location_that_is_not_a_url_is_recorded_as_sent_never_parsed(
    mock: respx.MockRouter, status: int, location: str
) -> None:
    """httpx parses a 3xx's Location into the next request even when it follows no redirect, and raises on a value
    that is not a URL; the client sends each request once and never reads Location."""
    route = mock.post(PATH).mock(return_value=httpx.Response(status, headers={"Location": location}, json={}))
    with quiet_client() as client:
        exchange = client.post(body("a"))
    assert (exchange.status, exchange.failure, route.call_count) == (status, None, 1)
    assert exchange.header("location") == location


def test_set_cookie_headers_are_recorded_and_never_kept_or_sent_back(mock: respx.MockRouter) -> None:
    cookies = [("Set-Cookie", f"c{n}=v{n}; Path=/") for n in range(3000)]
    route = mock.post(PATH).mock(return_value=httpx.Response(200, headers=cookies, json={"migration_tasks": []}))
    with quiet_client() as client:
        started = time.perf_counter()
        exchanges = [client.post(body("a")) for _ in range(20)]
        took = time.perf_counter() - started
        jar = list(client._http.cookies.jar)
    assert all(exchange.complete for exchange in exchanges)
    assert (exchanges[0].header("set-cookie") or "").startswith("c0=v0; Path=/, c1=v1")
    assert jar == [], "no cookie jar: the suite never sends a cookie back"
    assert all("cookie" not in call.request.headers for call in route.calls)
    assert took < 5, f"20 answers of 3000 Set-Cookie headers took {took:.1f} s"


def test_a_body_that_breaks_framing_says_after_how_many_bytes(mock: respx.MockRouter) -> None:
    def broken() -> Iterator[bytes]:
        yield b'{"migration_tasks": ['
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    mock.post(PATH).mock(return_value=httpx.Response(200, stream=_Stream(broken)))
    with quiet_client() as client:
        exchange = client.post(body("a"))
    assert exchange.status == 200 and not exchange.complete
    assert exchange.failure is not None
    assert exchange.failure.startswith("the answer broke HTTP framing after 21 bytes of the body: peer closed")


def test_a_target_that_only_sends_broken_answers_was_reached_and_says_so(mock: respx.MockRouter) -> None:
    def broken() -> Iterator[bytes]:
        yield b"{"
        raise httpx.RemoteProtocolError("illegal chunk header")

    mock.post(PATH).mock(side_effect=lambda _: httpx.Response(200, stream=_Stream(broken)))
    with quiet_client() as client, pytest.raises(TargetStopped) as stopped:
        for _ in range(STOP_AFTER_UNANSWERED + 2):
            client.post(body("a"))
    message = str(stopped.value)
    assert message.startswith("the target sent answers but never a complete one: ")
    assert "broke HTTP framing after 1 bytes of the body: illegal chunk header" in message


class _Stream(httpx.SyncByteStream):
    """A body that raises part-way, as httpcore does when the target breaks the framing."""

    def __init__(self, chunks: Callable[[], Iterator[bytes]]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()


def test_throttling_waits_stop_once_the_runs_wait_budget_is_spent(mock: respx.MockRouter) -> None:
    """A target throttling for ever (Retry-After: 1e9) costs the run THROTTLE_WAIT_BUDGET_S of waiting in all, not
    RETRY_AFTER_CAP_S per resend of every request: afterwards a throttled answer is final."""
    route = mock.post(PATH).mock(return_value=httpx.Response(429, headers={"Retry-After": "1e9"}))
    with quiet_client() as client:
        for _ in range(3):
            assert client.post(body("a")).throttled
    assert sum(client.waits) == THROTTLE_WAIT_BUDGET_S  # type: ignore[attr-defined]
    assert client.waits == [RETRY_AFTER_CAP_S, RETRY_AFTER_CAP_S]  # type: ignore[attr-defined]
    assert route.call_count == 3 + 2, "two resends, then every throttled answer is final"


def test_requests_in_a_row_without_an_answer_are_counted_in_the_order_they_were_issued(
    mock: respx.MockRouter,
) -> None:
    """Unanswered, unanswered, unanswered, answered (slowly), unanswered, unanswered: never five in a row, however
    the answers come back. Counted as they completed (the slow answer last), it was five, and a probe was sent."""
    slow = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content)["migration_tasks"] == ["slow"]:
            slow.wait(5)
            return ok_answer(request)
        raise httpx.ReadTimeout("timed out")

    route = mock.post(PATH).mock(side_effect=answer)
    with quiet_client(max_in_flight=8) as client:
        assert not client.post(body("a")).complete  # the first request goes alone
        threads = []
        for number, task in enumerate(["a", "a", "slow", "a", "a"], start=2):
            thread = threading.Thread(target=client.post, args=(body(task),))
            thread.start()
            threads.append(thread)
            while client.sent < number:  # issued in this order
                time.sleep(0.001)
        threads[-1].join(5)
        threads[-2].join(5)
        slow.set()
        for thread in threads:
            thread.join(5)
        probes = client.take_probes()
    assert probes == [] and route.call_count == 6, "no probe: the slow request was answered in between"
    assert client.unanswered == 5


def test_a_plain_http_target_gets_a_tls_context_that_verifies_and_trusts_no_certificate() -> None:
    """It never takes a handshake; if it ever did, it would refuse every certificate rather than accept one."""
    plain = default_tls_context("http://target.test", trust_env=False)
    assert plain.verify_mode is ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
    assert default_tls_context("https://target.test", trust_env=False).cert_store_stats()["x509_ca"] > 0
