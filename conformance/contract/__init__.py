"""The contract as data: the OpenAPI document and the requirement catalogue, wherever the package is installed.

A wheel carries ``openapi/`` as ``conformance/_contract``; a source checkout or editable install reads the
top-level ``openapi/`` directly, so both find the very same files.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPEC_FILE = "batch-restart.yaml"
CATALOGUE_FILE = "requirements.yaml"
ENDPOINT = "/v2/{project_id}/migration-tasks/batch-restart"
MAX_BATCH = 50
LEVELS = ("MUST", "SHOULD", "MAY")


def contract_dir() -> Path:
    """The directory holding the spec, the catalogue and their sources."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_contract", package.parent / "openapi"):
        if (candidate / SPEC_FILE).is_file():
            return candidate
    raise FileNotFoundError(f"the OpenAPI contract ({SPEC_FILE}) is not installed beside {package}")


#: How a citation names the catalogue's documents to a reader: "seed: Table 2" read as the run's seed.
DOCUMENT_TITLES = {"seed": "API page", "facts": "vendor facts"}


@dataclass(frozen=True)
class Source:
    doc: str
    quote: str
    ref: str | None = None
    line: int | None = None

    def cite(self) -> str:
        where = self.ref if self.ref else f"line {self.line}"
        return f"{DOCUMENT_TITLES.get(self.doc, self.doc)}: {where}"


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    title: str
    statement: str
    sources: tuple[Source, ...]
    needs: tuple[str, ...] = ()
    since: str = ""


@dataclass(frozen=True)
class Observation:
    id: str
    title: str
    about: str
    since: str = ""


@dataclass(frozen=True)
class Catalogue:
    requirements: tuple[Requirement, ...]
    observations: tuple[Observation, ...]
    documents: dict[str, str] = field(default_factory=dict)
    #: What a run may have to provide, each with the reason reported for a requirement that needs it when it is
    #: not provided.
    needs: dict[str, str] = field(default_factory=dict)

    def needing(self, need: str) -> tuple[Requirement, ...]:
        """The requirements a run cannot exercise without ``need``."""
        return tuple(req for req in self.requirements if need in req.needs)


def spec_path() -> Path:
    return contract_dir() / SPEC_FILE


@cache
def spec_bytes() -> bytes:
    return spec_path().read_bytes()


def spec_sha256() -> str:
    """The hash that ties a report to the exact contract it was judged against."""
    return hashlib.sha256(spec_bytes()).hexdigest()


def catalogue_sha256() -> str:
    """The hash that ties a report to the requirement catalogue it was judged by: a requirement's level or wording
    changes the verdict as much as the spec does."""
    return hashlib.sha256((contract_dir() / CATALOGUE_FILE).read_bytes()).hexdigest()


def load_spec() -> dict[str, Any]:
    """A fresh copy of the OpenAPI document (callers may derive from it without touching others)."""
    return copy.deepcopy(_parsed_spec())


@cache
def _parsed_spec() -> dict[str, Any]:
    """The OpenAPI document, parsed once a process (a run reads it three times); never handed out as it is."""
    spec: dict[str, Any] = parse_yaml(spec_bytes())
    return spec


def parse_yaml(text: str | bytes) -> Any:
    """A YAML document of the contract, parsed safely: by libyaml when PyYAML has it (ten times faster than the
    pure-Python parser, which was a quarter of a second of every run), else by the pure-Python one. Both give the
    same data for the contract's files (tests/unit/test_contract.py)."""
    import yaml  # only once the contract is read: --help and usage errors never need it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


@cache
def load_catalogue() -> Catalogue:
    raw = parse_yaml((contract_dir() / CATALOGUE_FILE).read_text(encoding="utf-8"))
    requirements = tuple(
        Requirement(
            id=item["id"],
            level=item["level"],
            title=item["title"],
            statement=" ".join(item["statement"].split()),
            sources=tuple(Source(**source) for source in item["sources"]),
            needs=tuple(item.get("needs", ())),
            since=item["since"],
        )
        for item in raw["requirements"]
    )
    observations = tuple(Observation(**item) for item in raw["observations"])
    needs = {need: " ".join(about["unmet"].split()) for need, about in raw["needs"].items()}
    return Catalogue(
        requirements=requirements, observations=observations, documents=dict(raw["documents"]), needs=needs
    )
