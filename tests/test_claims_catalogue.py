"""The claim catalogue (conformance/claims.yaml) agrees with shared/claims.md and quotes the documents verbatim."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = REPO_ROOT / "conformance" / "claims.yaml"
SHARED = Path(__file__).resolve().parents[2] / "shared"  # the folder beside the repo root
CLAIMS_MD = SHARED / "claims.md"
DOCS_DIR = SHARED / "docs"

EXPECTED_CLAIMS = 187
DOC_CODES = frozenset({"000", "001", "002", "003", "004"})
NEEDS_CODES = frozenset({"API", "RUN", "NET", "REG", "AUTH", "NODE", "CFG", "MULTI", "SLOW", "NT"})
AREAS = frozenset(
    {"CTR", "IMG-NAME", "IMG-POL", "IMG-DEF", "IMG-PAR", "IMG-BO", "IMG-ARCH", "PRIV", "SECRET", "GLOB"}
    | {"ENV", "RC", "HOOK", "TERM", "GC", "POD", "KCTL", "LBL", "ANN", "NS"}
)
FLAG_KINDS = frozenset({"wrong", "translation", "version"})
CLAIM_KEYS = {"id", "area", "statement", "sources", "needs", "implied", "flag", "sketch"}
SOURCE_KEYS = {"doc", "quote", "english"}

HEADING_RE = re.compile(r"^#### `(?P<id>[A-Z0-9-]+)`(?P<rest>.*)$", re.MULTILINE)
SECTION_RE = re.compile(r"^### (?P<area>[A-Z][A-Z-]*): ", re.MULTILINE)
AREA_ROW_RE = re.compile(r"^\| (?P<area>[A-Z][A-Z-]*) \| (?P<title>.+?) \| (?P<claims>\d+) \| (?P<flagged>\d+) \|$")


# --------------------------------------------------------------------------- helpers and fixtures


def _require_shared(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared/ folder beside the repo root is needed for this check")


def _problems(title: str, items: list[str]) -> str:
    return f"{title} ({len(items)}):\n  " + "\n  ".join(items)


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{CATALOGUE} must hold a mapping"
    return data


@pytest.fixture(scope="module")
def claims(catalogue: dict[str, Any]) -> list[dict[str, Any]]:
    items = catalogue.get("claims")
    assert isinstance(items, list), "'claims' must be a list"
    assert all(isinstance(c, dict) for c in items), "every claim must be a mapping"
    return items


@pytest.fixture(scope="module")
def claims_md() -> str:
    _require_shared(CLAIMS_MD)
    return CLAIMS_MD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def md_claims(claims_md: str) -> list[dict[str, Any]]:
    """The catalogue section of claims.md: one entry per '#### `ID`' heading, with its '### AREA:' section."""
    body = claims_md.split("\n## Catalogue", 1)[1]
    sections = [(m.start(), m["area"]) for m in SECTION_RE.finditer(body)]
    out: list[dict[str, Any]] = []
    for m in HEADING_RE.finditer(body):
        area = next((a for pos, a in reversed(sections) if pos < m.start()), None)
        rest = m["rest"]
        out.append({"id": m["id"], "area": area, "flagged": "**FLAG**" in rest, "implied": "*(implied)*" in rest})
    return out


@pytest.fixture(scope="module")
def md_area_table(claims_md: str) -> dict[str, tuple[str, int, int]]:
    """The 'Claims per area' table of claims.md: area -> (title, claims, flagged)."""
    table = claims_md.split("### Claims per area", 1)[1].split("\n###", 1)[0]
    rows: dict[str, tuple[str, int, int]] = {}
    for line in table.splitlines():
        m = AREA_ROW_RE.match(line)
        if m:
            rows[m["area"]] = (m["title"], int(m["claims"]), int(m["flagged"]))
    return rows


# --------------------------------------------------------------------------- 1. loads, count, unique IDs


def test_loads_with_all_claims_and_unique_ids(catalogue: dict[str, Any], claims: list[dict[str, Any]]) -> None:
    assert catalogue.get("version") == 1
    assert len(claims) == EXPECTED_CLAIMS
    duplicates = sorted(str(i) for i, n in Counter(c.get("id") for c in claims).items() if n > 1)
    assert not duplicates, f"duplicate claim IDs: {duplicates}"


def test_every_claim_has_the_schema(claims: list[dict[str, Any]]) -> None:
    problems: list[str] = []
    for c in claims:
        cid = c.get("id", "<no id>")
        if set(c) != CLAIM_KEYS:
            problems.append(f"{cid}: keys {sorted(c)} != {sorted(CLAIM_KEYS)}")
            continue
        for key in ("id", "area", "statement", "sketch"):
            if not isinstance(c[key], str) or not c[key].strip():
                problems.append(f"{cid}: {key} must be a non-empty string")
        if not isinstance(c["implied"], bool):
            problems.append(f"{cid}: implied must be a boolean")
        if not isinstance(c["needs"], list) or not c["needs"]:
            problems.append(f"{cid}: needs must be a non-empty list")
        flag = c["flag"]
        if flag is not None and not (
            isinstance(flag, dict)
            and set(flag) == {"kind", "note"}
            and isinstance(flag["note"], str)
            and flag["note"].strip()
        ):
            problems.append(f"{cid}: flag must be null or {{kind, note}} with a non-empty note")
        if not isinstance(c["sources"], list) or not c["sources"]:
            problems.append(f"{cid}: sources must be a non-empty list")
            continue
        for s in c["sources"]:
            if not isinstance(s, dict) or set(s) != SOURCE_KEYS:
                problems.append(f"{cid}: source entry must have exactly {sorted(SOURCE_KEYS)}: {s!r}")
                continue
            if not isinstance(s["quote"], str) or not s["quote"].strip() or "\n" in s["quote"]:
                problems.append(f"{cid}/{s['doc']}: quote must be a non-empty single line")
            if not isinstance(s["english"], str) or not s["english"].strip():
                problems.append(f"{cid}/{s['doc']}: english must be a non-empty string")
    assert not problems, _problems("schema problems", problems)


# --------------------------------------------------------------------------- 2. same IDs (and order) as claims.md


def test_ids_match_claims_md(claims: list[dict[str, Any]], md_claims: list[dict[str, Any]]) -> None:
    ours = [c["id"] for c in claims]
    theirs = [m["id"] for m in md_claims]
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    assert not missing and not extra, f"missing from claims.yaml: {missing}; not in claims.md: {extra}"
    assert ours == theirs, "claims must be in the same order as in claims.md"


def test_area_follows_claims_md_section(claims: list[dict[str, Any]], md_claims: list[dict[str, Any]]) -> None:
    section = {m["id"]: m["area"] for m in md_claims}
    wrong = [f"{c['id']}: {c['area']} != {section[c['id']]}" for c in claims if section.get(c["id"]) != c["area"]]
    assert not wrong, _problems("claims filed under the wrong area", wrong)


def test_areas_match_claims_md_summary(
    catalogue: dict[str, Any], claims: list[dict[str, Any]], md_area_table: dict[str, tuple[str, int, int]]
) -> None:
    assert set(md_area_table) == AREAS
    assert catalogue["areas"] == {a: t for a, (t, _, _) in md_area_table.items()}
    per_area = Counter(c["area"] for c in claims)
    flagged = Counter(c["area"] for c in claims if c["flag"] is not None)
    wrong = [
        f"{a}: {per_area[a]} claims / {flagged[a]} flagged, summary says {n} / {f}"
        for a, (_, n, f) in md_area_table.items()
        if (per_area[a], flagged[a]) != (n, f)
    ]
    assert not wrong, _problems("area counts differ from the claims.md summary", wrong)


# --------------------------------------------------------------------------- 3. quotes are verbatim


def test_every_quote_is_verbatim_in_its_document(catalogue: dict[str, Any], claims: list[dict[str, Any]]) -> None:
    _require_shared(DOCS_DIR)
    texts: dict[str, str] = {}
    for code, meta in catalogue["documents"].items():
        path = DOCS_DIR / meta["file"]
        assert path.is_file(), f"document {code}: {path} not found"
        texts[code] = path.read_text(encoding="utf-8")
    missing = [
        f"{c['id']} / doc {s['doc']}: {s['quote'][:80]!r}"
        for c in claims
        for s in c["sources"]
        if s["quote"] not in texts.get(s["doc"], "")
    ]
    assert not missing, _problems("quotes not found verbatim in their document", missing)


# --------------------------------------------------------------------------- 4. known areas, needs, documents


def test_areas_needs_and_documents_are_known(catalogue: dict[str, Any], claims: list[dict[str, Any]]) -> None:
    assert set(catalogue["documents"]) == DOC_CODES
    for code, meta in catalogue["documents"].items():
        assert meta["file"].startswith(f"{code}_"), f"document {code}: file {meta['file']} has the wrong prefix"
        assert {"file", "language", "docs_version", "title"} <= set(meta), f"document {code}: incomplete entry"
    assert set(catalogue["areas"]) == AREAS
    problems: list[str] = []
    for c in claims:
        if c["area"] not in AREAS:
            problems.append(f"{c['id']}: unknown area {c['area']!r}")
        unknown = [n for n in c["needs"] if n not in NEEDS_CODES]
        if unknown:
            problems.append(f"{c['id']}: unknown needs {unknown}")
        if len(set(c["needs"])) != len(c["needs"]):
            problems.append(f"{c['id']}: repeated needs {c['needs']}")
        docs = [s["doc"] for s in c["sources"]]
        bad = [d for d in docs if d not in DOC_CODES]
        if bad:
            problems.append(f"{c['id']}: unknown document codes {bad}")
        if len(set(docs)) != len(docs):
            problems.append(f"{c['id']}: more than one source entry for a document: {docs}")
        if c["flag"] is not None and c["flag"].get("kind") not in FLAG_KINDS:
            problems.append(f"{c['id']}: unknown flag kind {c['flag'].get('kind')!r}")
    assert not problems, _problems("unknown codes", problems)


# --------------------------------------------------------------------------- 5. flags (and implied) match claims.md


def test_flags_match_claims_md(claims: list[dict[str, Any]], md_claims: list[dict[str, Any]]) -> None:
    flagged_md = {m["id"] for m in md_claims if m["flagged"]}
    flagged_yaml = {c["id"] for c in claims if c["flag"] is not None}
    assert flagged_md, "no **FLAG** headings found in claims.md"
    assert flagged_md == flagged_yaml, (
        f"flagged in claims.md but flag is null: {sorted(flagged_md - flagged_yaml)}; "
        f"flag set but not flagged in claims.md: {sorted(flagged_yaml - flagged_md)}"
    )


def test_implied_match_claims_md(claims: list[dict[str, Any]], md_claims: list[dict[str, Any]]) -> None:
    implied_md = {m["id"] for m in md_claims if m["implied"]}
    implied_yaml = {c["id"] for c in claims if c["implied"]}
    assert implied_md == implied_yaml, (
        f"implied differs: only in claims.md {sorted(implied_md - implied_yaml)}, "
        f"only in claims.yaml {sorted(implied_yaml - implied_md)}"
    )
