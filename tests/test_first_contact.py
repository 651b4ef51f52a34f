"""First contact: the README's set-up commands on a fresh Debian, as root, with Debian's own Python and no Go.

Unit tests (fast, no marker): the Go toolchain check of fixtures/host/gotool.py (a go too old or missing gets the
pinned release from a module proxy, checked by sha256; what cannot be done is one line naming what to install) and
the early "no Docker daemon can start here" line of fixtures/host/prepare.py.

``first_contact`` (minutes, needs Docker, mmdebstrap and the package registries): a Debian 13 (and 12) root filesystem
made with mmdebstrap from the host's Debian mirror (cached per suite and day under ``$K8SDC_CACHE/first-contact``),
imported as ``k8sdc-fc/debian:<version>``; in an unprivileged container of it, the repository cloned from a read-only
bind mount (with the working tree's changes), the set-up lines of README.md's first ``bash`` block (up to its first
``nox -s``), then ``nox -s tests`` and ``nox -s conformance``. No Docker daemon can run in that container, so each must
stop early, non-zero, its last lines holding one ``ERROR:`` line that names what to install, and no traceback; ``python
-m k8s_doc_conformance.fixtures.host.prepare go`` then fetches the pinned Go. ``K8SDC_FC_SOURCE=DIR`` takes the
repository from DIR instead (to try a change before it lands).
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import re
import secrets
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.errors import SetupError
from k8s_doc_conformance.fixtures.host import gotool, prepare
from k8s_doc_conformance.fixtures.nodeimage import versions
from k8s_doc_conformance.fixtures.nodeimage.cache import cached_dir
from k8s_doc_conformance.fixtures.nodeimage.rootfs import host_sources

REPO = Path(__file__).resolve().parents[1]
FAKE_GO = "#!/bin/sh\necho 'go version go{version} linux/amd64'\n"


# --- unit tests: the Go toolchain -------------------------------------------------------------------------------


def fake_go(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    go = directory / "go"
    go.write_text(FAKE_GO.format(version=version))
    go.chmod(0o755)
    return go


def fake_proxy(root: Path, release: str = gotool.PINNED_GO) -> tuple[str, str]:
    """A file:// module proxy serving a toolchain zip whose bin/go reports ``release``; (GOPROXY, sha256)."""
    plat = gotool.go_platform()
    prefix = f"golang.org/toolchain@{gotool.toolchain_version(plat, release)}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{prefix}/VERSION", f"go{release}\n")
        zf.writestr(f"{prefix}/bin/go", FAKE_GO.format(version=release))  # no mode bits: we must set them
    data = buf.getvalue()
    target = Path(gotool.toolchain_url(str(root), plat, release).removeprefix("file://"))
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    return f"file://{root}", hashlib.sha256(data).hexdigest()


@pytest.fixture
def no_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with no go (just sh), /usr/local/go/bin out of sight, a cache of its own; the PATH's directory."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sh").symlink_to(shutil.which("sh") or "/bin/sh")
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("K8SDC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("GOPROXY", raising=False)
    monkeypatch.setattr(gotool, "USUAL_GO_BIN", str(tmp_path / "usr-local-go-bin"))
    return bindir


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("go version go1.19.8 linux/amd64", (1, 19, 8)),
        ("go1.26.8", (1, 26, 8)),
        ("go version go1.25 linux/amd64", (1, 25)),
        ("go version devel go1.27-abcdef Tue linux/amd64", (1, 27)),
        ("no version here", None),
    ],
)
def test_go_versions_are_parsed(text: str, version: tuple[int, ...] | None) -> None:
    assert gotool.parse_version(text) == version


@pytest.mark.parametrize(
    ("goproxy", "first"),
    [
        ("https://proxy.golang.org,direct", "https://proxy.golang.org"),
        ("https://goproxy.example/", "https://goproxy.example"),
        ("file:///srv/proxy|https://proxy.golang.org", "file:///srv/proxy"),
        ("direct", None),
        ("off", None),
    ],
)
def test_first_goproxy_entry(goproxy: str, first: str | None) -> None:
    assert gotool.first_proxy(goproxy) == first


def test_minimum_go_matches_kubernetes_go_mod() -> None:
    """MIN_GO is the ``go`` line of k8s.io/kubernetes's go.mod (checked when the module cache holds it)."""
    modcache = Path(os.environ.get("GOMODCACHE") or Path.home() / "go" / "pkg" / "mod")
    mod = modcache / "cache" / "download" / "k8s.io" / "kubernetes" / "@v" / f"{versions.KUBERNETES}.mod"
    if not mod.is_file():
        pytest.skip(f"{mod} not in the module cache (no build here yet)")
    go_line = re.search(r"^go (\S+)$", mod.read_text(), re.MULTILINE)
    assert go_line is not None
    assert gotool.parse_version("go" + go_line.group(1))[:2] == gotool.MIN_GO  # type: ignore[index]


def test_new_enough_go_is_used_as_found(no_go: Path) -> None:
    go = fake_go(no_go, "1.25.3")
    assert gotool.ensure_go() == go
    assert not (Path(os.environ["K8SDC_CACHE"]) / "go").exists()


def test_go_only_in_usr_local_go_bin_is_put_first_on_path(no_go: Path, tmp_path: Path) -> None:
    go = fake_go(Path(gotool.USUAL_GO_BIN), "1.26.1")
    assert gotool.ensure_go() == go
    assert os.environ["PATH"].split(":")[0] == str(go.parent)


def test_too_old_go_gets_the_pinned_release_from_the_module_proxy(
    no_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_go(no_go, "1.19.8")  # Debian 12's golang-go
    goproxy, sha256 = fake_proxy(tmp_path / "proxy")
    monkeypatch.setenv("GOPROXY", f"{goproxy},direct")
    monkeypatch.setitem(gotool.TOOLCHAIN_SHA256, gotool.go_platform(), sha256)
    go = gotool.ensure_go()
    expected = Path(os.environ["K8SDC_CACHE"]) / "go" / f"go{gotool.PINNED_GO}.{gotool.go_platform()}" / "bin" / "go"
    assert go == expected
    assert os.environ["PATH"].split(":")[0] == str(go.parent)
    assert gotool.found_go() == (str(go), gotool.parse_version("go" + gotool.PINNED_GO))
    assert os.access(go, os.X_OK)
    assert gotool.ensure_go() == go  # now found first on PATH


def test_a_toolchain_with_another_checksum_is_refused_in_one_line(
    no_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    goproxy, _ = fake_proxy(tmp_path / "proxy")
    monkeypatch.setenv("GOPROXY", goproxy)
    monkeypatch.setitem(gotool.TOOLCHAIN_SHA256, gotool.go_platform(), "0" * 64)
    with pytest.raises(SetupError) as err:
        gotool.ensure_go()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("Go >= 1.25 is needed to build the node image (no go on PATH")
    assert "expected " + "0" * 64 in message
    assert message.endswith("install Go >= 1.25 from https://go.dev/dl (Debian's golang-go is too old)")
    assert not (Path(os.environ["K8SDC_CACHE"]) / "go" / f"go{gotool.PINNED_GO}.{gotool.go_platform()}").exists()


def test_no_module_proxy_to_fetch_from_is_one_line(no_go: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_go(no_go, "1.24.4")  # Debian 13's golang-go
    monkeypatch.setenv("GOPROXY", "off")
    with pytest.raises(SetupError, match=r"found go1\.24\.4 at .*GOPROXY names no module proxy.*go\.dev/dl") as err:
        gotool.ensure_go()
    assert "\n" not in str(err.value)


def test_unreachable_module_proxy_is_one_line(no_go: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOPROXY", f"file://{tmp_path}/nothing-here")
    with pytest.raises(SetupError, match=r"fetching Go .* failed \(downloading file://.*go\.dev/dl") as err:
        gotool.ensure_go()
    assert "\n" not in str(err.value)


# --- unit tests: no Docker daemon possible here -----------------------------------------------------------------

UNPRIVILEGED_CONTAINER = "CapInh:\t0000000000000000\nCapEff:\t00000000a80425fb\n"  # Docker's default set
FULL_ROOT = "CapEff:\t000001ffffffffff\n"


def test_capabilities_and_user_namespaces_are_read() -> None:
    caps = prepare.effective_capabilities(UNPRIVILEGED_CONTAINER)
    assert not caps >> 21 & 1 and not caps >> 12 & 1
    assert prepare.effective_capabilities(FULL_ROOT) >> 21 & 1
    assert not prepare.in_user_namespace("         0          0 4294967295\n")
    assert prepare.in_user_namespace("         0     100000      65536\n")


def test_root_that_cannot_start_dockerd_is_told_before_any_slow_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare.os, "geteuid", lambda: 0)
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(prepare, "docker_answers", lambda: False)
    unprivileged = prepare.effective_capabilities(UNPRIVILEGED_CONTAINER)
    monkeypatch.setattr(prepare, "effective_capabilities", lambda status=None: unprivileged)

    def slow(*_: object) -> None:
        raise AssertionError("a slow step ran before the Docker check")

    monkeypatch.setattr(prepare.gotool, "ensure_go", slow)
    monkeypatch.setattr(prepare, "install_packages", slow)
    with pytest.raises(SetupError) as err:
        prepare.ensure_host()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("Docker is needed and no Docker daemon answers, and none can start here: root here "
                              "lacks CAP_SYS_ADMIN and CAP_NET_ADMIN")  # fmt: skip


def test_docker_answers_without_a_docker_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert prepare.docker_answers() is False


@pytest.mark.parametrize(("server_version", "answers"), [("", False), ("26.1.5+dfsg1", True)])
def test_docker_info_must_name_the_server(
    server_version: str, answers: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Docker 26 (Debian 13) exits 0 from ``docker info --format`` with no daemon, printing nothing."""
    cli = tmp_path / "docker"
    cli.write_text(f"#!/bin/sh\necho '{server_version}'\n")
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert prepare.docker_answers() is answers


@pytest.mark.parametrize(("has_docker_cli", "packages"), [(True, ["docker-cli", "jq"]), (False, ["docker.io", "jq"])])
def test_the_docker_cli_package_where_debian_has_one(
    has_docker_cli: bool, packages: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian 13 has the CLI in docker-cli (docker.io only recommends it); Debian 12 has it in docker.io."""
    monkeypatch.setattr(prepare, "apt_candidate", lambda package: has_docker_cli)
    assert prepare.with_fallbacks(["jq", "docker-cli"]) == packages


def test_command_line_says_one_error_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def fail() -> None:
        raise SetupError("Go >= 1.25 is needed (found nothing): install it")

    monkeypatch.setattr(prepare, "ensure_host", fail)
    assert prepare.main([]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "ERROR: Go >= 1.25 is needed (found nothing): install it\n")


# --- first contact in a fresh Debian container ------------------------------------------------------------------

#: suite -> (version, the image's tag)
SUITES = {"trixie": "13", "bookworm": "12"}
IMAGE_PACKAGES = ("python3", "ca-certificates", "git")  # a fresh install, with the repository cloned
STEP_TIMEOUT = 900
#: What a stop must name: the ERROR line of fixtures/host/prepare.py, about Docker or Go.
ERROR_LINE = re.compile(r"^ERROR: .*\b(Docker|Go >= \d+\.\d+)\b.*$")


def docker(*args: str, check: bool = True, timeout: float = STEP_TIMEOUT, input: bytes | None = None) -> str:
    proc = subprocess.run(["docker", *args], capture_output=True, input=input, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed: {proc.stderr.decode(errors='replace')[-2000:]}")
    return proc.stdout.decode(errors="replace")


def mirror_sources(suite: str) -> str:
    """deb822 sources for ``suite`` on the host's own Debian mirrors (the host's may name another suite)."""
    uris = re.findall(r"^URIs:\s*(\S+)|^deb\s+(?:\[[^]]*\]\s+)?(\S+)", host_sources().read_text(), re.MULTILINE)
    found = [a or b for a, b in uris if "debian" in (a or b)]
    main = next((u for u in found if "security" not in u), "http://deb.debian.org/debian")
    security = next((u for u in found if "security" in u), "http://deb.debian.org/debian-security")
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    return (
        f"Types: deb\nURIs: {main}\nSuites: {suite} {suite}-updates\nComponents: main\nSigned-By: {keyring}\n\n"
        f"Types: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\nSigned-By: {keyring}\n"
    )


def debian_image(suite: str) -> str:
    """``k8sdc-fc/debian:<version>``: minbase ``suite`` with IMAGE_PACKAGES, its apt sources where a Debian
    install has them; the root filesystem cached per suite and UTC day (a day-old one is rebuilt)."""
    day = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    sources = mirror_sources(suite)
    key = f"debian-{suite}-{day}-" + hashlib.sha256((sources + ",".join(IMAGE_PACKAGES)).encode()).hexdigest()[:8]

    def build(out: Path) -> None:
        (out.parent / f"{key}.sources").write_text(sources)
        try:
            subprocess.run(
                [
                    "mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(IMAGE_PACKAGES)}",
                    '--aptopt=Acquire::Retries "3"',
                    '--customize-hook=cd "$1"/etc/apt/sources.list.d && mv 0000*.sources debian.sources',
                    suite, str(out / "rootfs.tar"), str(out.parent / f"{key}.sources"),
                ],
                check=True, capture_output=True, timeout=STEP_TIMEOUT,
            )  # fmt: skip
        finally:
            (out.parent / f"{key}.sources").unlink(missing_ok=True)

    entry = cached_dir("first-contact", key, build, f"Debian {suite} root filesystem (first contact)")
    for old in entry.parent.glob(f"debian-{suite}-*"):
        if old != entry and ".partial-" not in old.name:
            shutil.rmtree(old, ignore_errors=True)
    image = f"k8sdc-fc/debian:{SUITES[suite]}"
    label = docker("image", "inspect", "--format", '{{index .Config.Labels "k8sdc-fc.rootfs"}}', image, check=False)
    if label.strip() != key:
        docker("import", "--change", f"LABEL k8sdc-fc.rootfs={key}", str(entry / "rootfs.tar"), image)
    return image


def local_trust_anchors() -> list[str]:
    """The host's own CA certificates (a TLS-inspecting proxy's), bind-mounted so the container trusts the same."""
    local = Path("/usr/local/share/ca-certificates")
    return ["-v", f"{local}:{local}:ro"] if any(local.glob("*.crt")) else []


def readme_setup_lines(readme: Path) -> list[str]:
    """README.md's first ``bash`` block, up to its first ``nox -s`` line: the set-up commands."""
    block = re.search(r"```bash\n(.*?)```", readme.read_text(), re.DOTALL)
    assert block, "README.md has no ```bash block"
    lines = []
    for line in block.group(1).splitlines():
        if re.match(r"\s*nox -s", line):
            break
        lines.append(line)
    assert any(line.strip() and not line.strip().startswith("#") for line in lines), "no set-up line in README.md"
    return lines


def working_tree(source: Path) -> bytes:
    """A tar of the files git tracks or would track (modified and new ones too): what a commit would hold."""
    names = subprocess.run(
        ["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    existing = b"\0".join(n for n in names if n and (source / n.decode()).is_file())
    return subprocess.run(
        ["tar", "-C", str(source), "--null", "-T", "-", "-c"], input=existing, capture_output=True, check=True
    ).stdout


@pytest.fixture
def fresh_debian(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """A running container of the suite's image, the repository in /root/k8s-doc-conformance; removed after."""
    for tool in ("docker", "mmdebstrap", "git"):
        if shutil.which(tool, path=prepare.sbin_path()) is None:
            pytest.skip(f"needs {tool}")
    if not prepare.docker_answers():
        pytest.skip("needs a Docker daemon that answers")
    suite: str = request.param
    source = Path(os.environ.get("K8SDC_FC_SOURCE") or REPO).resolve()
    image = debian_image(suite)
    name = f"k8sdc-fc-{SUITES[suite]}-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        docker("run", "-d", "--name", name, "-v", f"{source}:/src:ro", *local_trust_anchors(), image, "sleep", "3h")
        script = (
            "set -e; update-ca-certificates >/dev/null 2>&1 || true; git config --global --add safe.directory '*';"
            "git clone -q /src /root/k8s-doc-conformance; tar -x -C /root/k8s-doc-conformance"
        )
        docker("exec", "-i", name, "bash", "-c", script, input=working_tree(source))
        yield name, source
    finally:
        docker("rm", "-f", name, check=False)


def in_container(name: str, script: str) -> tuple[int, str]:
    """Run a bash script in the container as root (README's PATH addition kept), output combined."""
    proc = subprocess.run(
        ["docker", "exec", "-w", "/root/k8s-doc-conformance", name, "bash", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    return proc.returncode, proc.stdout.decode(errors="replace")


@pytest.mark.first_contact
@pytest.mark.parametrize("fresh_debian", list(SUITES), indirect=True, ids=[f"debian{v}" for v in SUITES.values()])
def test_readme_commands_on_a_fresh_debian(fresh_debian: tuple[str, Path]) -> None:
    name, source = fresh_debian
    start = time.monotonic()
    assert in_container(name, "command -v go || ls /usr/local/go")[0] != 0, "the image has a Go toolchain"
    setup = "set -e; export DEBIAN_FRONTEND=noninteractive\n" + "\n".join(readme_setup_lines(source / "README.md"))
    rc, out = in_container(name, setup + '\necho "PATH=$PATH" > /root/.fc-path')
    assert rc == 0, f"README set-up failed (exit {rc}):\n{out[-3000:]}"
    env = "source /root/.fc-path; export PATH; "
    rc, out = in_container(name, env + "nox --version")
    assert rc == 0, f"nox is not installed by the README's set-up:\n{out[-2000:]}"

    for session in ("tests", "conformance"):
        rc, out = in_container(name, f"{env}nox -s {session}")
        tail = [line for line in out.splitlines() if line.strip()][-6:]
        report = "\n".join(tail)
        assert "Traceback" not in out, f"nox -s {session}: a traceback\n{out[-4000:]}"
        assert rc != 0, f"nox -s {session} exited 0 without Docker in the container (skipped?):\n{report}"
        errors = [line for line in tail if line.startswith("ERROR:")]
        assert len(errors) == 1 and ERROR_LINE.match(errors[0]), f"nox -s {session}: no one-line stop:\n{report}"
        assert "Docker" in errors[0], f"nox -s {session}: expected the Docker line:\n{report}"

    # Go is fetched (no Go in the container): the pinned release, from the module proxy, first on PATH.
    venv = "$(ls -d .nox/tests*/ | head -1)"
    rc, out = in_container(name, f"{env}{venv}bin/python -m k8s_doc_conformance.fixtures.host.prepare go")
    assert rc == 0, f"Go toolchain not installed:\n{out[-2000:]}"
    bindir = out.strip().splitlines()[-1]
    assert bindir == f"/root/.cache/k8s-doc-conformance/go/go{gotool.PINNED_GO}.{gotool.go_platform()}/bin"
    rc, out = in_container(name, f"{bindir}/go version")
    assert rc == 0 and f"go{gotool.PINNED_GO} " in out, out
    print(f"first contact on {name}: {time.monotonic() - start:.0f}s after the image")
