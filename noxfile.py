"""Sessions: ``conformance`` (cluster, scenarios, reports), ``tests`` (the project's own tests),
``sensitivity`` (the self-test that misconfigures the suite's cluster on purpose), ``cluster -- up|down|status``,
``lint``."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]
nox.options.error_on_missing_interpreters = True  # a session whose Python is missing fails, not skipped (exit 0)
# The Python nox runs on when it is new enough (Debian 12: 3.11, Debian 13: 3.13), else 3.11.
PYTHON = f"3.{sys.version_info.minor}" if sys.version_info >= (3, 11) else "3.11"
EXPECTATIONS = "conformance/expected/1.35.yaml"
SENSITIVITY = "k8s_doc_conformance.fixtures.sensitivity"  # python -m: the self-test that misconfigures the cluster


def _versions() -> types.ModuleType:
    """fixtures/nodeimage/versions.py, the one place that pins the Kubernetes releases (nox runs outside the project's
    virtualenv, so the file is loaded by path; it needs nothing but the standard library)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_k8sdc_versions", Path(__file__).parent / "fixtures/nodeimage/versions.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


VERSIONS = _versions()
#: Supported releases, oldest first (``1.29``, ``1.31``, ``1.35``).
RELEASES = sorted(VERSIONS.RELEASES, key=lambda minor: VERSIONS.RELEASES[minor].minor_number)
SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
ALLURE_PREFIX = Path(".nox") / "allure"  # allure-commandline from the npm registry, installed once by the sessions
# After a Ctrl-C pytest stops its scenarios, puts back what they changed and writes the reports (fixtures/
# interruption.py gives its workers 25 s); nox's own default would kill it after half a second.
INTERRUPT_GRACE = 30.0
INTERRUPTED = 3
BAD_INPUT = 4
EXIT_CODES = {  # fixtures/verdicts.py RunExit; README "Exit codes"
    0: "every verdict as expected",
    1: "a claim deviates unexpectedly (or verdicts changed)",
    2: "a scenario or the suite broke",
    3: "interrupted",
    4: "bad input",
}


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


def _prepare_host(session: nox.Session, args: list[str]) -> None:
    """Before anything builds (fixtures/host/prepare.py): a Go toolchain new enough (found, or fetched from the Go
    module proxy) and, for the suite's own clusters, the Debian packages and dockerd. What is missing stops the
    session in one ERROR line. The toolchain goes first on PATH for every later command."""
    what = ["go"] if _names_cluster(args) else []
    out = session.run(
        "python", "-m", "k8s_doc_conformance.fixtures.host.prepare", *what, env=_env(), silent=True, stderr=None
    )
    if out:  # None under --install-only
        os.environ["PATH"] = f"{str(out).strip().splitlines()[-1]}:{os.environ['PATH']}"


def _names_cluster(args: list[str]) -> bool:
    """Whether the arguments or the environment name a cluster, kubectl's way (fixtures/target.py decides the same
    in pytest): ``--kubeconfig``, ``--context``, ``$KUBECONFIG``, or running in a pod."""
    if any(_option(args, name) is not None for name in ("--kubeconfig", "--context")):
        return True
    in_pod = os.environ.get("KUBERNETES_SERVICE_HOST") and Path(SERVICE_ACCOUNT_TOKEN).is_file()
    return bool(os.environ.get("KUBECONFIG", "").strip() or in_pod)


def _cluster_up(session: nox.Session, args: list[str]) -> None:
    """Bring the suite's kind cluster up before pytest, so its progress is visible (xdist hides workers' output);
    pytest then finds it healthy and reuses it. Nothing to do against a cluster the user named."""
    if not _names_cluster(args):
        which = [f"--{flag}={value}" for flag, option in (("kubernetes", "--kubernetes"), ("name", "--cluster-name"))
                 if (value := _option(args, option)) is not None]  # fmt: skip
        _exit_with(
            session, _call(session, "python", "-m", "k8s_doc_conformance.fixtures.cluster", "up", *which, env=_env())
        )


def _workers(args: list[str]) -> list[str]:
    """Scenarios mostly wait on pods: more workers than cores pays (10 pod-waiting scenarios on 2 cores: -n 1 76 s,
    -n 2 43 s, -n 4 29 s). ``-n`` in the arguments overrides. Work stealing: a slow scenario (scheduled first, see
    fixtures/plugin.py) must not hold back the tests queued behind it on its worker."""
    return [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", "4", "--dist", "worksteal"]


def _option(args: list[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in pytest arguments."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _run_args(args: list[str]) -> tuple[list[str], Path]:
    """``--run-id`` and ``--alluredir`` unless given, so the Allure results land in the run's directory
    (``reports/out/<run-id>/allure-results``); also that directory."""
    run_id = _option(args, "--run-id") or f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"
    run_dir = Path(_option(args, "--reports-dir") or "reports/out") / run_id
    extra = [] if _option(args, "--run-id") else ["--run-id", run_id]
    if not _option(args, "--alluredir"):
        extra.append(f"--alluredir={run_dir / 'allure-results'}")
    return extra, run_dir


def _allure_cli(session: nox.Session) -> str | None:
    """The Allure command line: npm's ``allure-commandline`` at the version reports/allure.py pins, installed
    under .nox/allure the first time (no global install). None, with a warning, without npm or Java."""
    version = session.run(
        "python", "-c", "from reports.allure import ALLURE_VERSION; print(ALLURE_VERSION)", silent=True
    )
    version = str(version or "").strip()
    if not version:  # e.g. nox --install-only: nothing was run
        return None
    prefix = ALLURE_PREFIX.resolve()
    package = prefix / "node_modules" / "allure-commandline" / "package.json"
    installed = json.loads(package.read_text(encoding="utf-8")).get("version") if package.is_file() else None
    if installed != version:
        if shutil.which("npm") is None:
            session.warn("no npm: cannot install allure-commandline, so no Allure HTML report")
            return None
        session.run(
            "npm", "install", "--prefix", str(prefix), "--no-save", "--no-audit", "--no-fund",
            f"allure-commandline@{version}", external=True,
        )  # fmt: skip
    if shutil.which("java") is None:
        session.warn("no Java runtime (Debian: apt-get install default-jre-headless), so no Allure HTML report")
        return None
    return str(prefix / "node_modules" / ".bin" / "allure")


def _call(session: nox.Session, *argv: str, env: dict[str, str] | None = None) -> int:
    """Run a command of the session's virtualenv and return its exit code (``session.run`` only says pass/fail).

    A Ctrl-C reaches the command too (same process group): it gets ``INTERRUPT_GRACE`` seconds to clean up before
    it is terminated. A SIGTERM to nox (a CI system cancelling the job) is passed on."""
    if session.run("python", "-c", "", silent=True) is None:
        return 0  # nox --install-only: nothing runs
    session.log(" ".join(argv))
    run_env = {**os.environ, **(env or {})}
    run_env["PATH"] = f"{session.bin}:{run_env.get('PATH', '')}"
    run_env["VIRTUAL_ENV"] = str(Path(session.bin).parent)
    proc = subprocess.Popen(argv, env=run_env)

    def forward(signum: int, frame: object) -> None:
        proc.send_signal(signal.SIGTERM)  # pytest stops on it as on a Ctrl-C (fixtures/interruption.py)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)  # ignored if the terminal's Ctrl-C got there first
            deadline = time.monotonic() + INTERRUPT_GRACE
            while True:
                try:
                    return proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except KeyboardInterrupt:
                    continue  # a second Ctrl-C: the clean-up is already bounded
                except subprocess.TimeoutExpired:
                    session.warn(f"{argv[0]} did not stop within {INTERRUPT_GRACE:.0f} s: terminating it")
                    proc.terminate()
                    try:
                        return proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_with(session: nox.Session, code: int) -> None:
    """End nox with the run's own exit code (README "Exit codes"), not nox's generic 1."""
    if code:
        session.log(f"exit code {code}: {EXIT_CODES.get(code, 'see the output above')}")
        raise SystemExit(code)


def _pytest_with_reports(session: nox.Session, args: list[str]) -> int:
    """pytest, then the run's reports with its Allure report (a problem there is printed, not fatal); pytest's exit
    code. The Allure command line is installed first, and named in $ALLURE, so tests/test_reports.py can build a real
    report."""
    extra, run_dir = _run_args(args)
    cli = _allure_cli(session)
    code = _call(session, "pytest", *args, *extra, env=_env() | ({"ALLURE": cli} if cli else {}))
    if code == INTERRUPTED:  # pytest wrote compliance.html, junit.xml and results.tar.gz; stop now, as asked
        session.log(f"interrupted: no Allure HTML report (nox -s report -- {run_dir} builds it)")
    elif (run_dir / "verdicts.json").is_file():
        allure = ["--allure", cli] if cli else ["--no-allure"]
        _call(session, "python", "-m", "k8s_doc_conformance.reports", str(run_dir), *allure)
    return code


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The project's own tests and the conformance scenarios against the suite's own cluster (reports, the Allure
    report included, in reports/out/<run-id>/). Then, one after the other and never beside the timing scenarios:
    the tests marked ``alone`` (they start whole runs or measure wall time) and ``first_contact`` (the README's set-up
    in fresh Debian containers), the sensitivity self-test's CI subset (``nox -s sensitivity -- --ci --batch
    --quick``), then the plain cluster's (tests/test_plain_cluster.py: a subset through its kubeconfig), after which
    the plain cluster is removed, and last the oldest supported Kubernetes release's full run against its own
    expectations, on its own cluster (removed afterwards). The project's tests always use the suite's clusters: a
    $KUBECONFIG in the environment is set aside."""
    _install(session)
    if os.environ.get("KUBECONFIG"):
        session.log("nox -s tests uses the suite's own clusters: ignoring $KUBECONFIG")
        os.environ.pop("KUBECONFIG")
    _prepare_host(session, [])
    selecting = any(a in ("-m", "-k") or a.startswith(("-m=", "-k=")) for a in session.posargs)
    session.run("python", "-m", "k8s_doc_conformance.fixtures.cluster", "down", "--profile", "plain", env=_env())
    _cluster_up(session, session.posargs)
    # Three workers, not four: beside the scenarios the project's tests start Docker registries and build images,
    # and on two cores a fourth worker pushed the kubelet's preStop start to 2 s after a delete (timing scenarios
    # measure from there). The run still ends with its slowest scenario (the 300 s back-off cap).
    workers = _workers(session.posargs)
    workers = ["-n", "3", *workers[2:]] if workers else workers
    args = [*workers, f"--expectations={EXPECTATIONS}", *session.posargs]
    selection = "not plain_cluster and not alone and not first_contact"
    _exit_with(session, _pytest_with_reports(session, ["tests", "conformance", "-m", selection, *args]))
    if selecting:
        return
    session.run("pytest", "tests", "-m", "alone or first_contact", "-p", "no:xdist", env=_env())
    # the sensitivity self-test's CI subset (conformance/profiles.yaml, ci: true: a profile per area, each running the
    # scenarios of the claims it must flip) on the same cluster, alone too
    _exit_with(
        session,
        _call(session, "python", "-m", SENSITIVITY, "--ci", "--batch", "--quick", env=_env()),
    )
    session.run("python", "-m", "k8s_doc_conformance.fixtures.cluster", "up", "--profile", "plain", env=_env())
    try:
        session.run("pytest", "tests", "-m", "plain_cluster", "-p", "no:xdist", env=_env())
    finally:
        session.run("python", "-m", "k8s_doc_conformance.fixtures.cluster", "down", "--profile", "plain", env=_env())
    _oldest_release_run(session)


def _oldest_release_run(session: nox.Session) -> None:
    """The oldest supported release's full run against its expectations, on its own cluster, which is removed
    afterwards (the reference release's cluster stays as it is)."""
    oldest = RELEASES[0]
    try:
        code = _run_release(session, oldest, _release_run_id(_stamp(), oldest), [])
    finally:
        session.run(
            "python", "-m", "k8s_doc_conformance.fixtures.cluster", "down", f"--kubernetes={oldest}", env=_env()
        )
    _exit_with(session, code)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """Build what is missing, bring the kind cluster up (unless --kubeconfig is given), run every scenario; the
    reports (compliance.html, junit.xml, allure-report/) go to reports/out/<run-id>/."""
    _install(session)
    args = session.posargs or []
    _prepare_host(session, args)
    _cluster_up(session, args)
    _exit_with(session, _pytest_with_reports(session, ["conformance", *_workers(args), *args]))


def _expectations(release: str) -> str:
    return f"conformance/expected/{release}.yaml"


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def _release_run_id(prefix: str, release: str) -> str:
    """``<prefix>-1-29``: the run ID of one release's run (also its directory under reports/out)."""
    return f"{prefix}-{release.replace('.', '-')}"


def _run_release(session: nox.Session, release: str, run_id: str, args: list[str]) -> int:
    """One release's full run on its own cluster (``k8sdc-1-29``; the default release's is ``k8sdc``) against its own
    expectations; the run's exit code."""
    session.log(f"Kubernetes {release} ({VERSIONS.RELEASES[release].version}): run {run_id}")
    release_args = ["--kubernetes", release]
    _cluster_up(session, release_args)
    pytest_args = [*release_args, f"--expectations={_expectations(release)}", "--run-id", run_id, *args]
    return _pytest_with_reports(session, ["conformance", *_workers(args), *pytest_args])


@nox.session(python=PYTHON)
@nox.parametrize("kubernetes", list(RELEASES))
def release(session: nox.Session, kubernetes: str) -> None:
    """One release's full run against conformance/expected/<release>.yaml, e.g. ``nox -s "release(kubernetes='1.29')"``
    (one CI job per release; ``nox -s matrix`` combines their runs)."""
    _install(session)
    _prepare_host(session, [])
    _exit_with(session, _run_release(session, kubernetes, _release_run_id(_stamp(), kubernetes), session.posargs))


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """``nox -s matrix -- [RELEASE ...] [pytest arguments]``: a full run on each release (all supported ones when none
    is named), one after the other, then one report of all of them: ``reports/out/<matrix-id>/matrix.html`` and
    ``matrix.json``. Exit code: 4 for an unsupported release or one without expectations (before anything runs), 3 when
    interrupted (no later release runs), else the worst of the runs' (2, 4, 1, 0)."""
    chosen: set[str] = set()
    pytest_args: list[str] = []
    problems: list[str] = []
    for arg in session.posargs:
        if not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", arg):
            pytest_args.append(arg)
            continue
        try:
            chosen.add(VERSIONS.release(arg).minor)
        except ValueError as exc:
            problems.append(str(exc))
    chosen_releases = [r for r in RELEASES if r in chosen] or RELEASES
    missing = [r for r in chosen_releases if not Path(_expectations(r)).is_file()]
    if missing:
        problems.append(f"no expectations for {', '.join(missing)} ({', '.join(map(_expectations, missing))})")
    if problems:  # before anything is installed or built
        session.log(f"ERROR: {'; '.join(problems)}")
        _exit_with(session, BAD_INPUT)
    _install(session)
    _prepare_host(session, [])
    matrix_id = f"matrix-{_stamp()}"
    codes: dict[str, int] = {}
    for release_ in chosen_releases:
        codes[release_] = _run_release(session, release_, _release_run_id(matrix_id, release_), pytest_args)
        if codes[release_] == INTERRUPTED:
            _exit_with(session, INTERRUPTED)
    run_dirs = [f"reports/out/{_release_run_id(matrix_id, r)}" for r in chosen_releases]
    built = _call(
        session, "python", "-m", "k8s_doc_conformance.reports", "matrix", "--out", f"reports/out/{matrix_id}", *run_dirs
    )
    session.log("release exit codes: " + ", ".join(f"{r}: {c}" for r, c in codes.items()))
    # the worst run decides: broke (or an unknown code) > bad input > deviates > as expected; then the report
    severity = {0: 0, 1: 1, 4: 2}
    worst = max(codes.values(), key=lambda c: severity.get(c, 3))
    _exit_with(session, worst or (2 if built else 0))


@nox.session(python=PYTHON)
def sensitivity(session: nox.Session) -> None:
    """``nox -s sensitivity -- [--profile ID ...] [--ci] [--batch] [--list]``: apply each deviation profile of
    conformance/profiles.yaml to the suite's own cluster, run the scenarios of its areas, put the cluster back exactly,
    and report per profile the claims that flipped as required, those that did not, and false alarms
    (reports/out/<id>/sensitivity.json; the compliance report's Sensitivity section shows the last one). Never
    against a cluster the suite did not create: $KUBECONFIG is set aside."""
    _install(session)
    os.environ.pop("KUBECONFIG", None)
    _prepare_host(session, [])
    _cluster_up(session, [])
    _exit_with(
        session,
        _call(session, "python", "-m", SENSITIVITY, *session.posargs, env=_env()),
    )


@nox.session(python=PYTHON)
def cluster(session: nox.Session) -> None:
    """``nox -s cluster -- up|down|status``: the suite's kind cluster."""
    _install(session)
    _prepare_host(session, [])
    session.run("python", "-m", "k8s_doc_conformance.fixtures.cluster", *(session.posargs or ["status"]), env=_env())


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """``nox -s report -- RUN_DIR`` rebuilds allure-report/ (from the run's allure-results), compliance.html and
    junit.xml; ``-- --diff RUN_A RUN_B`` lists the claims whose verdict changed."""
    _install(session)
    args = session.posargs or ["reports/out/latest"]
    if "--diff" in args or "--no-allure" in args or "--allure" in args or args[0] == "summary":
        _exit_with(session, _call(session, "python", "-m", "k8s_doc_conformance.reports", *args))
        return
    cli = _allure_cli(session)
    allure = ["--allure", cli] if cli else ["--no-allure"]
    _exit_with(session, _call(session, "python", "-m", "k8s_doc_conformance.reports", *allure, *args))


@nox.session(python=PYTHON)
def images(session: nox.Session) -> None:
    """``nox -s images -- --list | --save DIR | --push REPO [--registry-ca FILE] [--registry-credentials FILE]``:
    the instrument images a run starts in the cluster, for a mirror (see ``--image-repository``)."""
    _install(session)
    session.run("python", "-m", "k8s_doc_conformance.fixtures.images", *(session.posargs or ["--list"]), env=_env())


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    view = _import_view(Path(session.virtualenv.location) / "view")
    package = str(view / "k8s_doc_conformance")
    session.run("mypy", package, "tests", "noxfile.py", env={"MYPYPATH": str(view)})


def _import_view(root: Path) -> Path:
    """A folder where the checkout reads as what it installs: ``k8s_doc_conformance/`` holds links to the entries of
    conformance/ plus ``fixtures`` and ``reports`` (mypy cannot follow an editable install's import hook)."""
    here = Path(__file__).resolve().parent
    package = root / "k8s_doc_conformance"
    shutil.rmtree(root, ignore_errors=True)
    package.mkdir(parents=True)
    for entry in [*(here / "conformance").iterdir(), here / "fixtures", here / "reports"]:
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    return root
