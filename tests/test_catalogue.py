"""The claim catalogue and the expectations are checked against their published schemas when they are loaded
(fixtures/catalogue.py, fixtures/schemas.py), and a bad file is named in one line with the place of the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from k8s_doc_conformance.fixtures import catalogue, schemas

MINIMAL = {"claims": [{"id": "A-ONE", "area": "A", "statement": "one"}]}
FULL: dict[str, Any] = {
    "version": 1,
    "documents": {"001": {"file": "001_x.txt", "language": "zh-cn", "docs_version": "~v1.27", "title": "t"}},
    "areas": {"A": "Area A"},
    "claims": [
        {
            "id": "A-ONE",
            "area": "A",
            "statement": "one",
            "sources": [{"doc": "001", "quote": "q", "english": "e"}],
            "needs": ["RUN", "NT"],
            "implied": False,
            "flag": {"kind": "wrong", "note": "n"},
            "sketch": "s",
        }
    ],
}


@pytest.mark.parametrize("schema", [schemas.CLAIMS, schemas.EXPECTATIONS, schemas.VERDICTS], ids=lambda p: p.name)
def test_the_published_schemas_are_schemas(schema: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(schemas.load(schema))


def test_the_project_catalogue_is_typed() -> None:
    cat = catalogue.read()
    assert len(cat.claims) == 187 and len(cat.areas) == 20 and set(cat.documents) == {"000", "001", "002", "003", "004"}
    claim = cat.claims["ENV-HOSTNAME-IS-POD-NAME"]
    assert claim.area == "ENV" and claim.sources and claim.sources[0].doc in cat.documents
    assert all(c.area in cat.areas for c in cat.claims.values())
    assert sum(c.not_testable for c in cat.claims.values()) == 6


def test_a_minimal_and_a_full_catalogue_are_read() -> None:
    assert catalogue.parse(MINIMAL, Path("claims.yaml")).claims["A-ONE"].needs == ()
    full = catalogue.parse(FULL, Path("claims.yaml")).claims["A-ONE"]
    assert full.not_testable and full.flag == catalogue.Flag("wrong", "n") and full.documents == ("001",)


def _broken(change: str) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(FULL)
    claim = data["claims"][0]
    match change:
        case "type":
            claim["sources"][0]["doc"] = 1
        case "need":
            claim["needs"] = ["RUN", "MAYBE"]
        case "flag":
            claim["flag"] = {"kind": "odd"}
        case "unknown-key":
            claim["owner"] = "me"
        case "duplicate":
            data["claims"].append(dict(claim))
        case "area":
            claim["area"] = "B"
        case "document":
            claim["sources"][0]["doc"] = "009"
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("type", "claims.yaml: claims[0].sources[0].doc: 1 is not of type 'string'"),
        ("need", "claims.yaml: claims[0].needs[1]: 'MAYBE' is not one of ['RUN', 'API'"),
        ("flag", "claims.yaml: claims[0].flag: "),
        ("unknown-key", "claims.yaml: claims[0]: Additional properties are not allowed ('owner' was unexpected)"),
        ("duplicate", "claims.yaml: claims[1].id: 'A-ONE' is already the ID of another claim"),
        ("area", "claims.yaml: claims[0].area: 'B' is no area of this catalogue (A-ONE)"),
        ("document", "claims.yaml: claims[0].sources[0].doc: '009' is no document of this catalogue"),
    ],
)
def test_a_bad_catalogue_is_named_with_the_place(change: str, message: str) -> None:
    with pytest.raises(catalogue.CatalogueError) as caught:
        catalogue.parse(_broken(change), Path("claims.yaml"))
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unreadable_catalogue_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("claims: [\n  - id: A\n   area: x\n", encoding="utf-8")
    with pytest.raises(catalogue.CatalogueError, match=r"^cannot read the claim catalogue .*mine.yaml: ") as caught:
        catalogue.read(bad)
    assert "\n" not in str(caught.value)
    bad.write_text("claims: {}\n", encoding="utf-8")
    with pytest.raises(catalogue.CatalogueError, match=r"mine.yaml: claims: \{\} is not of type 'array'"):
        catalogue.read(bad)
