"""The contract is parsed once a process, by libyaml when PyYAML has it, into the very data the pure-Python parser
gives; every caller still gets a copy of its own."""

from __future__ import annotations

import pytest
import yaml

from conformance.contract import CATALOGUE_FILE, SPEC_FILE, contract_dir, load_spec, parse_yaml


@pytest.mark.parametrize("name", [SPEC_FILE, CATALOGUE_FILE])
def test_the_fast_parser_reads_the_contract_as_the_pure_python_one_does(name: str) -> None:
    text = (contract_dir() / name).read_text(encoding="utf-8")
    assert parse_yaml(text) == yaml.load(text, Loader=yaml.SafeLoader)


def test_libyaml_parses_it_when_pyyaml_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("this PyYAML was built without libyaml")
    used: list[object] = []
    real = yaml.load

    def load(text: str, Loader: object) -> object:
        used.append(Loader)
        return real(text, Loader=Loader)  # type: ignore[arg-type]

    monkeypatch.setattr(yaml, "load", load)
    assert parse_yaml("a: 1") == {"a": 1}
    assert used == [yaml.CSafeLoader]


def test_the_fast_parser_is_a_safe_one() -> None:
    with pytest.raises(yaml.YAMLError):
        parse_yaml("!!python/object/apply:os.system ['true']")


def test_every_caller_gets_a_copy_of_its_own() -> None:
    first = load_spec()
    first["paths"].clear()
    assert load_spec()["paths"], "a change to one copy reaches no other"
    assert load_spec() == load_spec()
