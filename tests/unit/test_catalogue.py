"""The requirement catalogue is well-formed, and every citation in it resolves to the documentation it quotes."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import __version__
from conformance.contract import CATALOGUE_FILE, LEVELS, Catalogue, contract_dir, load_catalogue

REQUIREMENT_ID = re.compile(r"BR-REQ-\d{3}")
OBSERVATION_ID = re.compile(r"OBS-\d{3}")
VERSION = re.compile(r"\d+\.\d+\.\d+")
SEED_REFS = re.compile(r"(Table \d+|Example Requests|Example Responses|Status Codes|Function|URI|Request Parameters)")
FACTS_WINDOW = 3  # a `line: N` quote must lie on lines N .. N+2


def collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load((contract_dir() / CATALOGUE_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def document_text(catalogue: Catalogue, doc: str) -> str:
    return (contract_dir() / catalogue.documents[doc]).read_text(encoding="utf-8")


def test_catalogue_file_parses_as_yaml_mapping() -> None:
    raw = yaml.safe_load((contract_dir() / CATALOGUE_FILE).read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    assert {"documents", "requirements", "observations"} <= set(raw)


def test_requirement_ids_are_unique_and_well_formed(catalogue: Catalogue) -> None:
    ids = [req.id for req in catalogue.requirements]
    assert ids, "the catalogue has no requirements"
    assert [i for i in ids if not REQUIREMENT_ID.fullmatch(i)] == []
    assert [i for i, count in Counter(ids).items() if count > 1] == []


def test_observation_ids_are_unique_and_well_formed(catalogue: Catalogue) -> None:
    ids = [obs.id for obs in catalogue.observations]
    assert ids, "the catalogue has no observations"
    assert [i for i in ids if not OBSERVATION_ID.fullmatch(i)] == []
    assert [i for i, count in Counter(ids).items() if count > 1] == []


def test_observations_have_title_and_description(catalogue: Catalogue) -> None:
    assert [obs.id for obs in catalogue.observations if not obs.title.strip() or not obs.about.strip()] == []


def test_requirement_levels_are_rfc2119_keywords(catalogue: Catalogue) -> None:
    assert set(LEVELS) == {"MUST", "SHOULD", "MAY"}
    assert [(req.id, req.level) for req in catalogue.requirements if req.level not in LEVELS] == []


def test_requirements_have_title_and_one_sentence_statement(catalogue: Catalogue) -> None:
    bad = []
    for req in catalogue.requirements:
        statement = req.statement.strip()
        one_sentence = statement.endswith(".") and not re.search(r"[.!?]\s", statement[:-1])
        if not req.title.strip() or not statement or not one_sentence:
            bad.append((req.id, req.title, statement))
    assert bad == []


def test_requirement_needs_are_declared_with_the_reason_a_run_without_them_gives(catalogue: Catalogue) -> None:
    assert set(catalogue.needs) == {"fixtures", "credentials", "readonly-credentials"}
    assert [need for need, reason in catalogue.needs.items() if not reason.strip()] == []
    undeclared = [(req.id, need) for req in catalogue.requirements for need in req.needs if need not in catalogue.needs]
    assert undeclared == []
    assert [need for need in catalogue.needs if not catalogue.needing(need)] == []


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_every_requirement_and_observation_says_since_when_and_no_later_than_this_version(
    catalogue: Catalogue,
) -> None:
    items = [*catalogue.requirements, *catalogue.observations]
    assert [item.id for item in items if not VERSION.fullmatch(item.since)] == []
    assert [(item.id, item.since) for item in items if version(item.since) > version(__version__)] == []


def test_raw_requirement_entries_have_only_known_keys(raw: dict[str, Any]) -> None:
    allowed = {"id", "level", "since", "title", "statement", "sources", "needs"}
    assert [(item.get("id"), sorted(set(item) - allowed)) for item in raw["requirements"] if set(item) - allowed] == []
    assert [item.get("id") for item in raw["requirements"] if not item.get("sources")] == []


def test_every_document_named_by_the_catalogue_exists_under_contract_dir(catalogue: Catalogue) -> None:
    assert set(catalogue.documents) == {"seed", "facts"}
    missing = [path for path in catalogue.documents.values() if not (contract_dir() / path).is_file()]
    assert missing == []
    # no document escapes the contract directory
    root = contract_dir().resolve()
    assert all(Path(root / path).resolve().is_relative_to(root) for path in catalogue.documents.values())


def test_every_source_names_a_known_document_and_a_place_in_it(catalogue: Catalogue) -> None:
    bad = []
    for req in catalogue.requirements:
        for source in req.sources:
            if source.doc not in catalogue.documents:
                bad.append((req.id, source.doc, "unknown document"))
            elif (source.ref is None) == (source.line is None):
                bad.append((req.id, source.doc, "needs exactly one of ref and line"))
            elif not source.quote.strip():
                bad.append((req.id, source.doc, "empty quote"))
    assert bad == []


def test_seed_sources_cite_a_section_label_that_exists_and_a_quote_found_in_the_page(catalogue: Catalogue) -> None:
    text = document_text(catalogue, "seed")
    flat = collapse(text)
    bad = []
    for req in catalogue.requirements:
        for source in req.sources:
            if source.doc != "seed":
                continue
            if source.ref is None or not SEED_REFS.fullmatch(source.ref) or source.ref not in text:
                bad.append((req.id, source.ref, "section label not in the seed"))
            if collapse(source.quote) not in flat:
                bad.append((req.id, source.ref, source.quote))
    assert bad == []


def test_facts_sources_quote_text_found_at_the_cited_line(catalogue: Catalogue) -> None:
    lines = document_text(catalogue, "facts").splitlines()
    bad = []
    for req in catalogue.requirements:
        for source in req.sources:
            if source.doc != "facts":
                continue
            if source.line is None or not 1 <= source.line <= len(lines):
                bad.append((req.id, source.line, "line out of range"))
                continue
            window = collapse(" ".join(lines[source.line - 1 : source.line - 1 + FACTS_WINDOW]))
            if collapse(source.quote) not in window:
                bad.append((req.id, source.line, source.quote))
    assert bad == []


def test_catalogue_has_at_least_15_must_and_4_should_requirements(catalogue: Catalogue) -> None:
    levels = Counter(req.level for req in catalogue.requirements)
    assert levels["MUST"] >= 15
    assert levels["SHOULD"] >= 4


def test_every_must_requirement_has_at_least_one_check(catalogue: Catalogue) -> None:
    from conformance.checks import covered_requirements

    must = {req.id for req in catalogue.requirements if req.level == "MUST"}
    assert must - covered_requirements() == set()


def test_checks_only_claim_requirements_that_exist(catalogue: Catalogue) -> None:
    from conformance.checks import covered_requirements

    assert covered_requirements() <= {req.id for req in catalogue.requirements}


def test_every_must_requirement_is_broken_by_at_least_one_fault(catalogue: Catalogue) -> None:
    """The suite's proof of power covers every MUST: a MUST no fault breaks is a rule nothing proves the suite
    catches (the kill matrix, tests/e2e/test_kill_matrix.py, proves each fault is caught on every break)."""
    from conformance.reference.faults import FAULTS

    broken = {req for fault in FAULTS.values() for req in fault.breaks}
    must = {req.id for req in catalogue.requirements if req.level == "MUST"}
    assert must - broken == set()
    assert broken - {req.id for req in catalogue.requirements} == set()


def test_a_variant_warns_only_on_should_requirements_and_a_fault_on_none(catalogue: Catalogue) -> None:
    """A legitimate variant may depart from a SHOULD on purpose (413 instead of 400): it is certified with a warning
    there. A MUST it cannot break, or it is a fault."""
    from conformance.reference.faults import FAULTS
    from conformance.reference.variants import VARIANTS

    should = {req.id for req in catalogue.requirements if req.level == "SHOULD"}
    assert {req for variant in VARIANTS.values() for req in variant.warns} - should == set()
    assert [name for name, fault in FAULTS.items() if fault.warns] == []


def answers() -> list[Any]:
    """Answers of every kind a check meets: conforming and broken batches, errors, other statuses, no answer."""
    from tests.conftest import exchange

    items = [
        {"task_id": "a", "result": "success", "error_code": "E"},
        {"task_id": "b", "result": "failed"},
        {"task_id": "c", "result": "restarted"},
        {"task_id": "a", "result": "success"},
        {"task_id": "x", "result": "failed", "error_code": "E", "error_msg": "m"},
    ]
    return [
        exchange(200),
        exchange(200, {"migration_tasks": items}),
        exchange(200, {"migration_tasks": [{"id": "a"}]}),
        exchange(200, [1], content_type="text/plain", request_id=None),
        exchange(201),
        exchange(400),
        exchange(401, {"message": "no"}),
        exchange(403),
        exchange(418),
        exchange(500, content=b"<html>"),
        exchange(0, failure="no answer", earlier_failure="reset"),
    ]


def test_every_requirement_a_check_emits_is_one_it_declares(catalogue: Catalogue) -> None:
    """Each registered check, run over answers of every kind, judges only the requirements its ``@covers`` names
    (and those exist in the catalogue); findings are made only by rules, the one place a check names an ID."""
    from conformance.checks import auth, batch, refusals, responses
    from conformance.checks.rules import COVERAGE

    ids = ["a", "b", "c", "d"]
    calls: dict[str, Any] = {
        "conformance.checks.auth.check_unauthenticated": lambda ex: auth.check_unauthenticated(ex, "w"),
        "conformance.checks.auth.check_wrong_credentials": lambda ex: auth.check_wrong_credentials(ex, "w"),
        "conformance.checks.auth.check_forbidden": lambda ex: auth.check_forbidden(ex, "w"),
        "conformance.checks.refusals.check_refused": lambda ex: refusals.check_refused(ex, "w"),
        "conformance.checks.batch.check_shape": batch.check_shape,
        "conformance.checks.batch.check_items": batch.check_items,
        "conformance.checks.batch.check_coverage": lambda ex: batch.check_coverage([*ids, "a"], ex),
        "conformance.checks.batch.check_fixture_outcomes": lambda ex: batch.check_fixture_outcomes(
            ex, ["a"], ["b"], ["x"]
        ),
        "conformance.checks.batch.check_unknown_outcomes": lambda ex: batch.check_unknown_outcomes(ex, ["a", "x"]),
        "conformance.checks.batch.check_full_batch": lambda ex: batch.check_full_batch(ids, ex),
        "conformance.checks.batch.check_same_outcomes": lambda ex: [
            *batch.check_same_outcomes(answers()[1], ex, ids, "r"),
            *batch.check_same_outcomes(ex, ex, ids, "r"),
        ],
        **{
            f"conformance.checks.responses.{name}": getattr(responses, name)
            for name in (
                "check_no_server_error",
                "check_success_is_200",
                "check_documented_status",
                "check_json_content_type",
                "check_request_id",
                "check_error_body",
                "check_answered",
            )
        },
    }
    assert set(calls) == set(COVERAGE), "a check was added or renamed: give it a call here"
    undeclared = {}
    for name, call in calls.items():
        emitted = {item.requirement for ex in answers() for item in call(ex) if hasattr(item, "requirement")}
        assert emitted, f"{name} judged nothing on any answer"
        if emitted - set(COVERAGE[name]):
            undeclared[name] = emitted - set(COVERAGE[name])
    assert undeclared == {}
    assert {req for declared in COVERAGE.values() for req in declared} <= {req.id for req in catalogue.requirements}
    package = Path(batch.__file__).parent
    direct = [
        path.name
        for path in package.glob("*.py")
        if path.name not in ("__init__.py", "rules.py") and "Finding(" in path.read_text()
    ]
    assert direct == []
