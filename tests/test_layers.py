"""Layers you can see: scenarios ask fixtures and never reach into the infrastructure; the build and cluster layers
never depend on the pytest layer above them. Imports are read from the source (function-level ones included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: What a scenario must not import: processes, Docker and kind, the host set-up, the node-image build, crane.
INFRASTRUCTURE = (
    "subprocess",
    "docker",
    "k8s_doc_conformance.fixtures.cluster",
    "k8s_doc_conformance.fixtures.host",
    "k8s_doc_conformance.fixtures.nodeimage",
    "k8s_doc_conformance.fixtures.images.crane",
    "k8s_doc_conformance.fixtures.images.forge",
    "k8s_doc_conformance.fixtures.errors",
)
#: The lower layers (host set-up, node-image build, cluster lifecycle) and what they must never import: the pytest
#: plugins, the scenarios, the reports.
LOWER = ("fixtures/host", "fixtures/nodeimage", "fixtures/cluster")
HIGHER = (
    "k8s_doc_conformance.fixtures.plugin",
    "k8s_doc_conformance.fixtures.verdicts",
    "k8s_doc_conformance.fixtures.verdict_model",
    "k8s_doc_conformance.reports",
)
SCENARIO_MODULE = "k8s_doc_conformance.test_"
#: The folders' own names: importable from a checkout's root, they would load a second copy of each module.
FOLDER_NAMES = ("fixtures", "reports", "conformance")
#: Fixture signatures are named once, in fixtures/signatures.py.
SIGNATURES = ("Kubectl", "NodeExec", "Exclusive")


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports (``from fixtures import pods`` counts as ``fixtures.pods``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _sources("conformance"), ids=lambda p: p.name)
def test_scenarios_ask_fixtures_not_infrastructure(path: Path) -> None:
    reached = sorted(m for m in imports(path) if _within(m, INFRASTRUCTURE))
    assert not reached, f"{path.relative_to(REPO)} imports infrastructure: {reached} (ask a fixture instead)"


@pytest.mark.parametrize("path", _sources(*LOWER), ids=lambda p: str(p.relative_to(REPO)))
def test_lower_layers_do_not_import_higher_ones(path: Path) -> None:
    reached = sorted(m for m in imports(path) if _within(m, HIGHER) or m.startswith(SCENARIO_MODULE))
    assert not reached, f"{path.relative_to(REPO)} imports a higher layer: {reached}"


def test_fixture_signatures_are_named_once() -> None:
    defined = {
        (str(path.relative_to(REPO)), target.id)
        for path in _sources("conformance", "fixtures")
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id in SIGNATURES
    }
    assert defined == {("fixtures/signatures.py", name) for name in SIGNATURES}


def test_the_check_sees_an_infrastructure_import(tmp_path: Path) -> None:
    """The scan itself can fail: a scenario that spells subprocess or kind is caught."""
    scenario = tmp_path / "test_x.py"
    scenario.write_text(
        "import subprocess\nfrom k8s_doc_conformance.fixtures.cluster import kind\n\ndef f():\n    import docker\n"
    )
    assert {"subprocess", "k8s_doc_conformance.fixtures.cluster.kind", "docker"} <= imports(scenario)


#: A scenario module reads like its documentation topic: past this many lines it holds a toolkit, not tests.
MAX_SCENARIO_LINES = 600


@pytest.mark.parametrize("path", _sources("conformance"), ids=lambda p: p.name)
def test_scenario_modules_stay_short(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_SCENARIO_LINES, (
        f"{path.relative_to(REPO)} has {lines} lines (at most {MAX_SCENARIO_LINES}): move its helpers to fixtures/ "
        "or split it by topic"
    )


def helpers(path: Path) -> set[str]:
    """The module-level functions and classes of a scenario module that are not tests."""
    return {
        node.name
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith(("test_", "Test"))
    }


def test_no_helper_is_defined_in_two_scenario_modules() -> None:
    """A helper two scenario modules need lives once, in fixtures/ (pods.sleeper, pods.marker_pod, ...)."""
    where: dict[str, list[str]] = {}
    for path in _sources("conformance"):
        for name in helpers(path):
            where.setdefault(name, []).append(path.name)
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert not twice, f"helpers defined in more than one scenario module: {twice}"


def test_the_helper_check_sees_a_copy(tmp_path: Path) -> None:
    """The scan itself can fail: a helper and a fixture are found, tests are not."""
    scenario = tmp_path / "test_x.py"
    scenario.write_text("import pytest\n\n@pytest.fixture\ndef reg(): ...\n\ndef sleeper(): ...\n\ndef test_a(): ...\n")
    assert helpers(scenario) == {"reg", "sleeper"}


MAX_BODY_LINES = 39


def body_lengths(path: Path) -> dict[str, int]:
    """Each test function's body in lines, from the first statement after its docstring to its end."""
    found = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            body = node.body
            documented = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
            start = body[1].lineno if documented and len(body) > 1 else body[0].lineno
            found[node.name] = (node.end_lineno or start) - start + 1
    return found


@pytest.mark.parametrize("path", _sources("conformance"), ids=lambda p: p.name)
def test_scenario_bodies_read_like_their_sentence(path: Path) -> None:
    """A test body under 40 lines: set-up, waiting and bookkeeping belong to fixtures/ (the scenario object and the
    instruments), so that what is left is the documented sentence, what was seen, and the assertions."""
    long = {name: lines for name, lines in body_lengths(path).items() if lines > MAX_BODY_LINES}
    assert not long, f"{path.relative_to(REPO)}: test bodies of 40 lines or more {long}"


def plain_helpers(path: Path) -> list[str]:
    """The functions and classes a module defines at top level that are not tests (fixtures included: they live
    in the fixture module they serve)."""
    return [
        node.name
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("test_")
    ]


@pytest.mark.parametrize("path", _sources("conformance"), ids=lambda p: p.name)
def test_scenario_modules_hold_tests_only(path: Path) -> None:
    """conformance/ holds tests (and the data tables only they use); what they compose, fixtures included, is in
    fixtures/."""
    assert not plain_helpers(path), (
        f"{path.relative_to(REPO)} defines helpers {plain_helpers(path)}: move them to fixtures/"
    )


def test_the_helper_scan_sees_a_helper(tmp_path: Path) -> None:
    scenario = tmp_path / "test_x.py"
    scenario.write_text("import pytest\n\n@pytest.fixture\ndef f(): ...\n\ndef helper(): ...\n\ndef test_a(): ...\n")
    assert plain_helpers(scenario) == ["f", "helper"]


def test_the_body_check_counts_after_the_docstring(tmp_path: Path) -> None:
    scenario = tmp_path / "test_x.py"
    body = "".join(f"    x{i} = {i}\n" for i in range(40))
    scenario.write_text(f'def test_long():\n    """doc\n    more doc"""\n{body}\ndef test_short():\n    pass\n')
    assert body_lengths(scenario) == {"test_long": 40, "test_short": 1}


def test_one_import_name_for_each_folder() -> None:
    """Code imports k8s_doc_conformance(.fixtures|.reports), never the folders by their own names: those collide with
    PyPI's `fixtures` and `reports`, and a second name for a module is a second copy of its state."""
    found = {
        f"{path.relative_to(REPO)}: {module}"
        for path in [*_sources("conformance", "fixtures", "reports", "tests"), REPO / "noxfile.py"]
        for module in imports(path)
        if _within(module, FOLDER_NAMES)
    }
    assert not found, sorted(found)
    planted = REPO / "tests" / "test_layers.py"
    assert _within("fixtures.pods", FOLDER_NAMES) and not _within("k8s_doc_conformance.fixtures", FOLDER_NAMES), planted
