"""Bad host situations end in one clear line (SetupError), not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.errors import SetupError
from k8s_doc_conformance.fixtures.host import prepare


def test_docker_missing_and_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(prepare, "docker_answers", lambda: False)
    monkeypatch.setattr(prepare.shutil, "which", lambda *a, **k: None)
    with pytest.raises(SetupError, match="Docker is missing and we are not root") as err:
        prepare.ensure_host()
    assert "\n" not in str(err.value)


def test_packages_missing_and_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(prepare, "which", lambda cmd: None if cmd == "mmdebstrap" else "/bin/true")
    with pytest.raises(SetupError, match="missing Debian packages mmdebstrap and not root"):
        prepare.install_packages()


@pytest.mark.skipif(prepare.which("dockerd") is None, reason="needs dockerd installed")
def test_dockerd_that_fails_to_start_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real dockerd, given a broken config file, exits; we report its own last log line."""
    bad = tmp_path / "daemon.json"
    bad.write_text("{not json")
    monkeypatch.setattr(prepare, "DAEMON_JSON", bad)
    monkeypatch.setattr(prepare, "DOCKERD_LOG", tmp_path / "dockerd.log")
    monkeypatch.setattr(prepare, "docker_answers", lambda: False)
    with pytest.raises(SetupError, match=r"dockerd failed to start \(exit \d+\): .*daemon.json") as err:
        prepare.start_dockerd(timeout=30)
    assert "\n" not in str(err.value)


def test_corrupt_daemon_json_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "daemon.json"
    bad.write_text("[1,")
    monkeypatch.setattr(prepare, "DAEMON_JSON", bad)
    with pytest.raises(SetupError, match="is not valid JSON"):
        prepare.write_daemon_json()


def test_inotify_limits_are_raised_never_lowered(tmp_path: Path) -> None:
    (tmp_path / "max_user_instances").write_text("128\n")
    (tmp_path / "max_user_watches").write_text("1048576\n")
    assert prepare.ensure_inotify_limits(tmp_path) == ["fs.inotify.max_user_instances 128 -> 512"]
    assert (tmp_path / "max_user_instances").read_text() == "512"
    assert (tmp_path / "max_user_watches").read_text() == "1048576\n"
    assert prepare.ensure_inotify_limits(tmp_path) == []
