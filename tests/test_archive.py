"""results.tar.gz (reports/archive.py): the whole run directory in one archive, without what must not travel."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from k8s_doc_conformance.reports import archive


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "reports" / "run-7"
    (run / "allure-results" / "history").mkdir(parents=True)
    (run / "allure-report").mkdir()
    (run / "logs").mkdir()
    (run / ".hidden-dir").mkdir()
    files = {
        "verdicts.json": "{}",
        "run.json": "{}",
        "compliance.html": "<html></html>",
        "junit.xml": "<testsuites/>",
        "allure-results/abc-result.json": "{}",
        "allure-results/history/history-trend.json": "[]",
        "allure-report/index.html": "<html></html>",
        "logs/kubelet.log": "log line\n",
        "logs/registry-auth.log": "password hunter2\n",
        ".verdicts.json.123.tmp": "partial",
        ".hidden-dir/x": "x",
        archive.NAME: "an old archive",
    }
    for name, text in files.items():
        (run / name).write_text(text, encoding="utf-8")
    (run / "logs" / "outside").symlink_to(tmp_path)
    return run


def _names(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def test_members_and_exclusions(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    out = archive.build(run, leaked=[run / "logs" / "registry-auth.log"])
    assert out == run / archive.NAME
    assert _names(out) == [
        "run-7/allure-report",
        "run-7/allure-report/index.html",
        "run-7/allure-results",
        "run-7/allure-results/abc-result.json",
        "run-7/allure-results/history",
        "run-7/allure-results/history/history-trend.json",
        "run-7/compliance.html",
        "run-7/junit.xml",
        "run-7/logs",
        "run-7/logs/kubelet.log",
        "run-7/run.json",
        "run-7/verdicts.json",
    ]
    with tarfile.open(out) as tar:
        member = tar.getmember("run-7/logs/kubelet.log")
        assert (member.uid, member.uname) == (0, "")
        handle = tar.extractfile(member)
        assert handle is not None and handle.read() == b"log line\n"
    assert not [p for p in run.iterdir() if p.name.startswith(f".{archive.NAME}")]  # no temporary file left


def test_leaked_names_relative_or_as_strings(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    names = _names(archive.build(run, leaked=["logs/registry-auth.log", str(run / "junit.xml")]))
    assert "run-7/logs/registry-auth.log" not in names and "run-7/junit.xml" not in names
    assert "run-7/logs/kubelet.log" in names
    assert (run / archive.EXCLUDE).read_text(encoding="utf-8") == "junit.xml\nlogs/registry-auth.log\n"
    names = _names(archive.build(run))  # a rebuild that knows no credentials still leaves them out
    assert "run-7/logs/registry-auth.log" not in names and "run-7/junit.xml" not in names
    assert archive.excluded(run, [tmp_path / "elsewhere", run]) == ["junit.xml", "logs/registry-auth.log"]


def test_everything_goes_in_without_leaks(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    assert "run-7/logs/registry-auth.log" in _names(archive.build(run))
    assert not (run / archive.EXCLUDE).exists()


def test_same_files_same_archive(tmp_path: Path) -> None:
    run = _run_dir(tmp_path)
    first = archive.build(run).read_bytes()
    second = archive.build(run).read_bytes()  # the first archive is not taken into the second
    assert first == second
    with tarfile.open(fileobj=io.BytesIO(second)) as tar:
        assert archive.NAME not in {Path(n).name for n in tar.getnames()}


def test_through_a_symlinked_run_dir(tmp_path: Path) -> None:
    """``reports/out/latest`` points at the run: the top folder is still the run's ID."""
    run = _run_dir(tmp_path)
    latest = run.parent / "latest"
    latest.symlink_to(run.name, target_is_directory=True)
    assert _names(archive.build(latest))[0] == "run-7/allure-report"
