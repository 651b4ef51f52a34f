"""The runc wrapper removes CAP_SYS_RESOURCE from both kinds of spec it is handed, and passes arguments on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

WRAPPER = Path(__file__).resolve().parents[1] / "fixtures" / "host" / "runc-capstrip"
CAPS = ["CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_SYS_ADMIN"]

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq (the node and host both have it)")


def fake_runc(tmp_path: Path) -> Path:
    runc = tmp_path / "runc"
    runc.write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/args"\n')
    runc.chmod(0o755)
    return runc


def spec() -> dict[str, object]:
    return {"process": {"args": ["sh"], "capabilities": {k: list(CAPS) for k in ("bounding", "effective")}}}


def run_wrapper(tmp_path: Path, *args: str) -> str:
    env = dict(os.environ, CAPSTRIP_RUNC=str(fake_runc(tmp_path)))
    subprocess.run([str(WRAPPER), *args], env=env, check=True, cwd=tmp_path)
    return (tmp_path / "args").read_text().strip()


def test_create_strips_bundle_config(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(spec()))
    args = run_wrapper(tmp_path, "--root", "/run/x", "create", "--bundle", str(bundle), "ctr1")
    caps = json.loads((bundle / "config.json").read_text())["process"]["capabilities"]
    assert caps["bounding"] == ["CAP_CHOWN", "CAP_SYS_ADMIN"] == caps["effective"]
    assert args == f"--root /run/x create --bundle {bundle} ctr1"


def test_exec_strips_process_file(tmp_path: Path) -> None:
    process = tmp_path / "process.json"
    process.write_text(json.dumps(spec()["process"]))
    run_wrapper(tmp_path, "exec", "--process", str(process), "ctr1")
    assert "CAP_SYS_RESOURCE" not in process.read_text()


def test_other_commands_pass_through(tmp_path: Path) -> None:
    assert run_wrapper(tmp_path, "state", "ctr1") == "state ctr1"
