"""Sessions: ``conformance`` (cluster, scenarios, reports), ``tests`` (the project's own tests),
``cluster -- up|down|status``, ``lint``."""

from __future__ import annotations

import os

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]
PYTHON = "3.11"
EXPECTATIONS = "conformance/expected/1.35.yaml"


def _install(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-q", "-e", spec)


def _env() -> dict[str, str]:
    # Go lives in /usr/local/go/bin on our machines; sbin holds dockerd and runc.
    path = os.environ.get("PATH", "")
    for extra in ("/usr/local/go/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"):
        if extra not in path.split(":"):
            path += ":" + extra
    return {"PATH": path, "TESTCONTAINERS_RYUK_DISABLED": "true"}


def _cluster_up(session: nox.Session, args: list[str]) -> None:
    """Bring the suite's kind cluster up before pytest, so its progress is visible (xdist hides workers' output);
    pytest then finds it healthy and reuses it. Nothing to do against a user's cluster (--kubeconfig)."""
    if not any(a == "--kubeconfig" or a.startswith("--kubeconfig=") for a in args):
        session.run("python", "-m", "fixtures.cluster", "up", env=_env())


def _workers(args: list[str]) -> list[str]:
    """Scenarios mostly wait on pods: more workers than cores pays (10 pod-waiting scenarios on 2 cores: -n 1 76 s,
    -n 2 43 s, -n 4 29 s). ``-n`` in the arguments overrides. Work stealing: a slow scenario (scheduled first, see
    fixtures/plugin.py) must not hold back the tests queued behind it on its worker."""
    return [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", "4", "--dist", "worksteal"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The project's own tests, then the conformance scenarios against the local cluster."""
    _install(session)
    _cluster_up(session, session.posargs)
    args = [*_workers(session.posargs), f"--expectations={EXPECTATIONS}", *session.posargs]
    session.run("pytest", "tests", "conformance", *args, env=_env())


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """Build what is missing, bring the kind cluster up (unless --kubeconfig is given), run every scenario."""
    _install(session)
    args = session.posargs or []
    _cluster_up(session, args)
    session.run("pytest", "conformance", *_workers(args), *args, env=_env())


@nox.session(python=PYTHON)
def cluster(session: nox.Session) -> None:
    """``nox -s cluster -- up|down|status``: the suite's kind cluster."""
    _install(session)
    session.run("python", "-m", "fixtures.cluster", *(session.posargs or ["status"]), env=_env())


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """``nox -s report -- RUN_DIR`` rebuilds compliance.html and junit.xml; ``-- --diff RUN_A RUN_B`` lists the
    claims whose verdict changed."""
    _install(session)
    session.run("python", "-m", "reports", *(session.posargs or ["reports/out/latest"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "fixtures", "conformance", "tests", "reports", "noxfile.py")
