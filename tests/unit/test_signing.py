"""conformance.wire.signing must sign exactly like huaweicloudsdkcore and verify what the SDK sends, refusing the
rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest

from conformance.wire.signing import (
    ALGORITHM,
    DATE_FORMAT,
    MAX_CLOCK_SKEW,
    SignatureError,
    sign,
    verify,
)

AK = "HPUAEXAMPLEAK0000001"
SK = "sEcReTkEy0123456789abcdefghijklmnopqrstu"
PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
HOST = "dcs.cn-north-4.myhuaweicloud.com"
PATH = f"/v2/{PROJECT_ID}/migration-tasks/batch-restart"
URL = f"https://{HOST}{PATH}"
NOW = datetime(2024, 5, 17, 8, 30, 0, tzinfo=UTC)
JSON_HEADERS = {"Content-Type": "application/json;charset=utf-8", "X-Project-Id": PROJECT_ID}
USER_AGENT = "huaweicloud-usdk-python/3.0"
SDK_HEADERS = {"User-Agent": USER_AGENT, **JSON_HEADERS}  # what the SDK's client sends before signing
BODY = json.dumps({"migration_tasks": [{"task_id": "a4b7c0e1"}], "resume": True}).encode()


def secrets(ak: str) -> str | None:
    """The verifier's key store: one known AK."""
    return {AK: SK}.get(ak)


def sdk_sign(
    method: str,
    resource_path: str,
    body: bytes | str | None,
    *,
    headers: dict[str, str] | None = None,
    query: list[tuple[str, object]] | None = None,
    date: datetime = NOW,
) -> SdkRequest:
    """Sign as the SDK's client does: BasicCredentials adds X-Project-Id, then Signer signs every header."""
    header_params = {"Content-Type": "application/json;charset=utf-8", "User-Agent": USER_AGENT}
    header_params.update(headers or {})
    header_params["X-Sdk-Date"] = date.strftime(DATE_FORMAT)  # the SDK reuses a given date instead of utcnow()
    request = SdkRequest(
        method=method,
        schema="https",
        host=HOST,
        resource_path=resource_path,
        query_params=query or [],
        header_params=header_params,
        body=body,
    )
    return BasicCredentials(AK, SK, PROJECT_ID).sign_request(request)


def verify_sdk_request(request: SdkRequest, body: bytes, **kwargs: Any) -> str:
    """Verify the SDK's request as a server sees it: the path and query exactly as the SDK sends them."""
    _, _, raw_query = request.uri.partition("?")
    return verify(request.method, request.resource_path, raw_query, request.header_params, body, secrets, **kwargs)


def signed_headers() -> dict[str, str]:
    """The headers our own signer produces for the batch-restart request at NOW."""
    return sign("POST", URL, JSON_HEADERS, BODY, AK, SK, now=NOW)


def signed_request(**overrides: Any) -> dict[str, Any]:
    """That request as keyword arguments for verify(), with some replaced."""
    request: dict[str, Any] = {
        "method": "POST",
        "path": PATH,
        "query": "",
        "headers": signed_headers(),
        "body": BODY,
        "secret_for": secrets,
        "now": NOW,
    }
    request.update(overrides)
    return request


def refusal(**overrides: Any) -> str:
    """verify()'s refusal message for the modified request, checked to leak neither the SK nor the signature."""
    with pytest.raises(SignatureError) as excinfo:
        verify(**signed_request(**overrides))
    message = str(excinfo.value)
    signature = signed_headers()["Authorization"].rpartition("=")[2]
    assert SK not in message
    assert signature not in message
    return message


def test_request_signed_by_the_sdk_verifies_and_returns_its_ak() -> None:
    request = sdk_sign("POST", PATH, BODY.decode())

    assert request.header_params["Authorization"].startswith(f"{ALGORITHM} Access={AK}, SignedHeaders=")
    assert verify_sdk_request(request, BODY, now=NOW) == AK


def test_sdk_signs_every_header_without_underscore_including_host_and_user_agent() -> None:
    request = sdk_sign("POST", PATH, BODY.decode(), headers={"X_Trace_Id": "t-1"})

    assert (
        "SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date," in request.header_params["Authorization"]
    )
    assert request.header_params["Host"] == HOST


@pytest.mark.parametrize(
    ("method", "resource_path", "query", "body", "extra_headers"),
    [
        pytest.param("POST", PATH, [], BODY, {}, id="json-post"),
        pytest.param("GET", f"/v2/{PROJECT_ID}/migration-tasks", [("offset", 0), ("limit", 10)], b"", {}, id="get"),
        pytest.param("GET", PATH, [("name", "a b+c~/é"), ("name", "Z"), ("a", "")], None, {}, id="query-encoding"),
        pytest.param("POST", "/v2/p%20x%40y/t%C3%A9/%2F~", [], BODY, {}, id="encoded-path"),
        pytest.param("POST", PATH, [], b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param("POST", PATH, [], BODY, {"X-Request-Id": "  padded  "}, id="trimmed-value"),
    ],
)
def test_sign_produces_the_same_authorization_as_the_sdk_signer(
    method: str,
    resource_path: str,
    query: list[tuple[str, object]],
    body: bytes | None,
    extra_headers: dict[str, str],
) -> None:
    unsigned = {**SDK_HEADERS, **extra_headers}
    request = sdk_sign(method, resource_path, body, headers=extra_headers, query=query)

    ours = sign(method, request.url, unsigned, body or b"", AK, SK, now=NOW)

    assert ours["Authorization"] == request.header_params["Authorization"]
    assert ours.keys() == request.header_params.keys()


def test_sign_with_non_json_content_type_adds_unsigned_payload_like_the_sdk() -> None:
    headers = sign("POST", URL, {"Content-Type": "text/plain"}, b"hello", AK, SK, now=NOW)

    assert headers["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in headers["Authorization"]


def test_sign_returns_a_new_dict_with_host_from_the_url_and_date_from_now_in_utc() -> None:
    given = dict(JSON_HEADERS)
    beijing = timezone(timedelta(hours=8))

    headers = sign("POST", f"https://user@{HOST}:8443{PATH}", given, BODY, AK, SK, now=NOW.astimezone(beijing))

    assert given == JSON_HEADERS
    assert headers["Host"] == f"{HOST}:8443"
    assert headers["X-Sdk-Date"] == "20240517T083000Z"
    assert set(headers) == {*JSON_HEADERS, "Host", "X-Sdk-Date", "Authorization"}


def test_sign_keeps_a_given_date_and_host_whatever_their_case() -> None:
    given = {**JSON_HEADERS, "x-sdk-date": "20240101T000000Z", "host": "other.example"}

    headers = sign("POST", URL, given, BODY, AK, SK, now=NOW)

    assert headers["x-sdk-date"] == "20240101T000000Z"
    assert headers["host"] == "other.example"
    assert "X-Sdk-Date" not in headers
    assert "Host" not in headers
    assert verify(**signed_request(headers=headers, now=datetime(2024, 1, 1))) == AK


def test_sign_replaces_an_existing_authorization_instead_of_signing_it() -> None:
    first = sign("POST", URL, JSON_HEADERS, BODY, AK, SK, now=NOW)

    again = sign("POST", URL, {**first, "authorization": "stale"}, BODY, AK, SK, now=NOW)

    assert again == first


def test_sign_uses_the_current_time_when_now_is_omitted() -> None:
    headers = sign("POST", URL, JSON_HEADERS, BODY, AK, SK)

    signed_at = datetime.strptime(headers["X-Sdk-Date"], DATE_FORMAT).replace(tzinfo=UTC)
    assert abs(signed_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert verify("POST", PATH, "", headers, BODY, secrets) == AK


@pytest.mark.parametrize(
    ("url", "headers", "reason"),
    [
        pytest.param(PATH, JSON_HEADERS, "Host", id="no-host"),
        pytest.param(URL, {"X-Sdk-Date": "2024-05-17T08:30:00Z"}, "invalid X-Sdk-Date", id="bad-date"),
        pytest.param(URL, {"X-A": "1", "x-a": "2"}, "unique", id="duplicate-names"),
    ],
)
def test_sign_refuses_requests_it_cannot_sign_unambiguously(url: str, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        sign("POST", url, headers, BODY, AK, SK, now=NOW)


def test_verify_accepts_our_own_signature() -> None:
    assert verify(**signed_request()) == AK


def test_verify_rejects_a_tampered_body() -> None:
    assert "signature mismatch" in refusal(body=BODY.replace(b"a4b7c0e1", b"a4b7c0e2"))


def test_verify_rejects_an_empty_body_when_a_body_was_signed() -> None:
    assert "signature mismatch" in refusal(body=b"")


def test_verify_rejects_a_tampered_signed_header_value() -> None:
    headers = dict(signed_headers())
    headers["X-Project-Id"] = "ffffffffffffffffffffffffffffffff"

    assert "signature mismatch" in refusal(headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        pytest.param("PUT", PATH, "", id="method"),
        pytest.param("POST", PATH.replace(PROJECT_ID, "f" * 32), "", id="path"),
        pytest.param("POST", PATH, "dry_run=true", id="query"),
    ],
)
def test_verify_rejects_a_request_replayed_with_another_method_path_or_query(
    method: str, path: str, query: str
) -> None:
    assert "signature mismatch" in refusal(method=method, path=path, query=query)


def test_verify_ignores_headers_that_were_not_signed() -> None:
    headers = {**signed_headers(), "X-Forwarded-For": "10.0.0.1", "X_Trace_Id": "t-1"}

    assert verify(**signed_request(headers=headers)) == AK


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=16), -timedelta(minutes=16)], ids=["server-ahead", "server-behind"]
)
def test_verify_rejects_a_date_16_minutes_off(offset: timedelta) -> None:
    message = refusal(now=NOW + offset)

    assert "X-Sdk-Date 20240517T083000Z" in message
    assert ("behind" if offset > timedelta(0) else "ahead of") in message
    assert "0:16:00" in message


@pytest.mark.parametrize("offset", [timedelta(minutes=14), -timedelta(minutes=14), MAX_CLOCK_SKEW, -MAX_CLOCK_SKEW])
def test_verify_accepts_a_date_up_to_15_minutes_off(offset: timedelta) -> None:
    assert verify(**signed_request(now=NOW + offset)) == AK


def test_verify_takes_a_naive_now_as_utc_and_honours_a_custom_max_skew() -> None:
    assert verify(**signed_request(now=NOW.replace(tzinfo=None))) == AK
    assert "at most 0:01:00" in refusal(now=NOW + timedelta(minutes=2), max_skew=timedelta(minutes=1))


def test_verify_rejects_an_unknown_ak() -> None:
    assert f"unknown access key {AK!r}" in refusal(secret_for=lambda ak: None)


def test_verify_rejects_a_signature_made_with_a_wrong_sk() -> None:
    headers = sign("POST", URL, JSON_HEADERS, BODY, AK, "not-" + SK, now=NOW)

    assert "signature mismatch" in refusal(headers=headers)


def test_verify_rejects_a_missing_authorization_header() -> None:
    headers = {k: v for k, v in signed_headers().items() if k != "Authorization"}

    assert refusal(headers=headers) == "missing Authorization header"


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(f"{ALGORITHM}", id="algorithm-only"),
        pytest.param(f"{ALGORITHM} Access={AK}", id="no-signed-headers"),
        pytest.param(f"{ALGORITHM} Access={AK}, SignedHeaders=host;x-sdk-date", id="no-signature"),
        pytest.param(f"{ALGORITHM} Access={AK}, SignedHeaders=host, Signature=zz", id="signature-not-hex"),
        pytest.param(f"{ALGORITHM} Access={AK}, SignedHeaders=host, Signature={'A' * 64}", id="signature-uppercase"),
        pytest.param(f"{ALGORITHM} SignedHeaders=host, Access={AK}, Signature={'a' * 64}", id="fields-reordered"),
        pytest.param(f"{ALGORITHM} Access=, SignedHeaders=host, Signature={'a' * 64}", id="empty-access"),
    ],
)
def test_verify_rejects_a_malformed_authorization_header(authorization: str) -> None:
    headers = {**signed_headers(), "Authorization": authorization}

    assert refusal(headers=headers).startswith("malformed Authorization header")


@pytest.mark.parametrize("algorithm", ["SDK-HMAC-SM3", "AWS4-HMAC-SHA256", "Bearer", ""])
def test_verify_rejects_an_unsupported_algorithm(algorithm: str) -> None:
    original = signed_headers()["Authorization"]
    headers = {**signed_headers(), "Authorization": original.replace(ALGORITHM, algorithm, 1)}

    assert "unsupported signing algorithm" in refusal(headers=headers)


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        pytest.param(None, "missing X-Sdk-Date header", id="missing"),
        pytest.param("2024-05-17T08:30:00Z", "invalid X-Sdk-Date", id="iso-8601"),
        pytest.param("2024517T083000Z", "invalid X-Sdk-Date", id="one-digit-month"),
        pytest.param("20241317T083000Z", "invalid X-Sdk-Date", id="month-13"),
    ],
)
def test_verify_rejects_a_missing_or_invalid_date(date: str | None, reason: str) -> None:
    headers = {k: v for k, v in signed_headers().items() if k != "X-Sdk-Date"}
    if date is not None:
        headers["X-Sdk-Date"] = date

    assert reason in refusal(headers=headers)


def test_verify_rejects_a_request_lacking_a_header_named_in_signed_headers() -> None:
    headers = {k: v for k, v in signed_headers().items() if k != "X-Project-Id"}

    assert refusal(headers=headers) == "signed header(s) missing from request: x-project-id"


def test_verify_looks_headers_up_ignoring_case() -> None:
    headers = {k.lower(): v for k, v in signed_headers().items()}
    shouting = {k.upper(): v for k, v in signed_headers().items()}

    assert verify(**signed_request(headers=headers)) == AK
    assert verify(**signed_request(headers=shouting)) == AK


@pytest.mark.parametrize(
    "path",
    [
        "/v2/proj%20with%20space/migration-tasks/batch-restart",
        "/v2/t%C3%A9st%E4%BD%A0/migration-tasks/batch-restart",
        "/v2/a%40b%3Ac%21d%2Be~f/migration-tasks/batch-restart",
        "/v2/a%2Fb/migration-tasks/batch-restart/",
        "/v2/unencoded@chars:here/migration-tasks/batch-restart",
    ],
)
def test_paths_needing_percent_encoding_round_trip_and_match_the_sdk(path: str) -> None:
    headers = sign("POST", f"https://{HOST}{path}", SDK_HEADERS, BODY, AK, SK, now=NOW)
    request = sdk_sign("POST", path, BODY)

    assert verify("POST", path, "", headers, BODY, secrets, now=NOW) == AK
    assert verify_sdk_request(request, BODY, now=NOW) == AK
    assert headers["Authorization"] == request.header_params["Authorization"]


def test_equivalent_spellings_of_a_path_verify_because_segments_are_decoded_then_re_encoded() -> None:
    headers = sign("POST", f"https://{HOST}/v2/p%40q/x", JSON_HEADERS, BODY, AK, SK, now=NOW)

    assert verify("POST", "/v2/p@q/x", "", headers, BODY, secrets, now=NOW) == AK
    assert verify("POST", "/v2/p%40q/x/", "", headers, BODY, secrets, now=NOW) == AK


def test_query_parameters_verify_in_any_order_and_reject_a_changed_value() -> None:
    headers = sign("GET", f"{URL}?limit=10&name=a%20b&offset=0", JSON_HEADERS, b"", AK, SK, now=NOW)

    assert verify("GET", PATH, "offset=0&name=a%20b&limit=10", headers, b"", secrets, now=NOW) == AK
    with pytest.raises(SignatureError, match="signature mismatch"):
        verify("GET", PATH, "limit=10&name=a%20b&offset=1", headers, b"", secrets, now=NOW)


def test_query_plus_is_a_literal_plus_not_a_space() -> None:
    request = sdk_sign("GET", PATH, None, query=[("q", "a+b")])
    _, _, sent_query = request.uri.partition("?")

    assert sent_query == "q=a%2Bb"
    assert verify("GET", PATH, "q=a+b", request.header_params, b"", secrets, now=NOW) == AK
    with pytest.raises(SignatureError, match="signature mismatch"):
        verify("GET", PATH, "q=a%20b", request.header_params, b"", secrets, now=NOW)


def test_unsigned_payload_from_the_sdk_verifies_and_leaves_the_body_unprotected() -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    request = sdk_sign("POST", PATH, "a=1", headers=form)

    assert request.header_params["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    assert verify_sdk_request(request, b"a=1", now=NOW) == AK
    assert verify_sdk_request(request, b"a=2", now=NOW) == AK


def test_a_declared_content_hash_must_equal_the_body_hash() -> None:
    declared = {**JSON_HEADERS, "X-Sdk-Content-Sha256": "0" * 64}
    headers = sign("POST", URL, declared, BODY, AK, SK, now=NOW)

    assert "body does not match the signed X-Sdk-Content-Sha256" in refusal(headers=headers)
