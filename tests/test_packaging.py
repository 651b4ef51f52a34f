"""The suite as an installable pytest plugin: a pytest11 entry point, import names of its own, a console script,
and an installed copy that runs a scenario from an empty directory and writes its reports there."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures import cli, entry, paths, target
from k8s_doc_conformance.fixtures.registry.shared import RunRegistries

REPO = Path(__file__).resolve().parents[1]
PLUGINS = [
    "k8s_doc_conformance.fixtures.verdicts",
    "k8s_doc_conformance.fixtures.allure_labels",
    "k8s_doc_conformance.fixtures.plugin",
    "k8s_doc_conformance.fixtures.scenario",
]
COPY_IGNORES = shutil.ignore_patterns(".git", ".nox", "build", "dist", "out", "*.egg-info", "__pycache__", ".*_cache")


def test_the_entry_point_registers_the_plugins_in_order() -> None:
    points = {p.name: p.value for p in importlib.metadata.entry_points(group="pytest11")}
    assert points.get("k8s_doc_conformance") == "k8s_doc_conformance.fixtures.entry"
    assert entry.pytest_plugins == PLUGINS


def test_an_emptied_addopts_keeps_the_plugins(tmp_path: Path) -> None:
    """`-o addopts=` (or a project's own pytest.ini) no longer drops the suite's options; `-p no:` turns them off."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts =\n", encoding="utf-8")
    run = [sys.executable, "-m", "pytest", "-o", "addopts=", "--help"]
    kept = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert kept.returncode == 0 and "--claims-catalogue" in kept.stdout and "--kubeconfig" in kept.stdout
    off = subprocess.run(
        [*run, "-p", "no:k8s_doc_conformance"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert off.returncode == 0 and "--claims-catalogue" not in off.stdout


def test_the_console_script_names_a_bad_command_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["nonsense"]) == cli.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown command 'nonsense'" in err and "run, cluster" in err
    assert cli.main(["--help"]) == 0 and "pytest --pyargs k8s_doc_conformance" in capsys.readouterr().out
    assert cli.main([]) == cli.BAD_INPUT


def test_a_checkout_writes_reports_under_reports_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFACTS", "/elsewhere")
    assert paths.checkout() == REPO and paths.default_reports_dir() == REPO / "reports" / "out"
    assert (
        paths.SCENARIOS == REPO / "conformance"
        and paths.KIND_CONFIG.read_text() == (REPO / "kind-config.yaml").read_text()
    )


@pytest.mark.cluster
@pytest.mark.alone
def test_installed_into_a_fresh_venv_it_runs_a_scenario_in_an_empty_directory(
    cluster: target.ClusterTarget, registries: RunRegistries, tmp_path: Path
) -> None:
    """`pip install .` into a fresh virtualenv, then `pytest --pyargs k8s_doc_conformance --claim ...` in an empty
    directory, the cluster named by $KUBECONFIG as a user names theirs (and --registry for the test images, as
    tests/test_isolation.py does): the scenario runs, reports land there."""
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=COPY_IGNORES, symlinks=True)  # pip builds in the tree it is given
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-2000:]
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARTIFACTS")}
    env["KUBECONFIG"] = str(cluster.kubeconfig)
    run = subprocess.run(
        [str(venv / "bin" / "pytest"), "--pyargs", "k8s_doc_conformance", "--claim", "ENV-HOSTNAME-IS-POD-NAME",
         f"--registry={registries.open.ip}", f"--registry-ca={registries.open.ca_cert}",
         "-p", "no:cacheprovider", "-rs"],
        cwd=empty, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.stdout.splitlines()[0].startswith("cluster: kubeconfig "), run.stdout[:500]
    runs = sorted(p for p in (empty / "reports").iterdir() if p.is_dir() and not p.is_symlink())
    assert len(runs) == 1, run.stdout[-2000:]
    verdicts = json.loads((runs[0] / "verdicts.json").read_text(encoding="utf-8"))
    claim = verdicts["claims"]["ENV-HOSTNAME-IS-POD-NAME"]
    # the scenario ran (the documents' rule holds for a plain pod, not for the exceptions: it deviates on 1.35)
    assert claim["verdict"] in ("conforms", "deviates"), (claim["verdict"], claim["reason"], run.stdout[-2000:])
    assert claim["tests"] and all("test_container_environment.py" in t for t in claim["tests"])
    assert (runs[0] / "compliance.html").is_file() and (runs[0] / "junit.xml").is_file()
    assert run.returncode == (1 if claim["verdict"] == "deviates" else 0), run.stdout[-2000:]
