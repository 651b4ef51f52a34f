"""The local registry against real Docker: image, TLS, auth, the request witness, slow pulls and cleanup.

Everything runs on a throw-away Docker network ``k8sdc-regtest-<random>``; pushes and pulls use skopeo from this
host (credentials in an auth file, never on a command line); the client container is the suite's busybox image,
and requests "from" it run in its network namespace (``nsenter -n``) so that the witness can attribute them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.registry import image, pki, server, slow, witness
from k8s_doc_conformance.fixtures.registry.server import Registry
from k8s_doc_conformance.fixtures.registry.witness import RegistryRequest

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["my-registry.test", "sub.my-registry.test"]
OPEN_NAMES = ["open.my-registry.test"]
USER = "alice"
BLOB_BYTES = 2 * 1024 * 1024
#: Environment for tools we run: no proxies (we talk only to containers we started).
NO_PROXY_ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


# --- helpers -----------------------------------------------------------------------------------------------------


def docker_answers(timeout: float = 20) -> str | None:
    """None when ``docker info`` answers, else why not."""
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=timeout
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if proc.returncode == 0 else proc.stderr.decode(errors="replace").strip()[-200:]


def sh(*args: str | Path, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=NO_PROXY_ENV)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))[:200]} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return proc


def auth_file(directory: Path, host: str, user: str, password: str) -> Path:
    """A containers-auth.json for skopeo (mode 0600), so that no password appears on a command line."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path = directory / f"auth-{uuid.uuid4().hex[:6]}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"auths": {host: {"auth": token}}}, fh)
    return path


def docker_archive(dest: Path, tag: str, size: int) -> Path:
    """A one-layer docker-archive (as ``docker save`` writes it) whose layer holds ``size`` random bytes."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        data = os.urandom(size)
        info = tarfile.TarInfo("data/random.bin")
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [diff_id]}}
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = diff_id.split(":")[1] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": [layer_name]}]).encode()
    with tarfile.open(dest, mode="w") as tar:
        for name, payload in ((layer_name, layer_bytes), (config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return dest


def push(reg: Registry, archive: Path, repo_tag: str, tmp: Path, password: str | None = None) -> None:
    certs = reg.cert_dir(tmp / f"certs-{reg.container_name}")
    args: list[str | Path] = ["skopeo", "copy", "--quiet", "--dest-cert-dir", certs]
    if password is not None:
        args += ["--dest-authfile", auth_file(tmp, reg.push_host, USER, password)]
    sh(*args, f"docker-archive:{archive}", f"docker://{reg.push_host}/{repo_tag}", timeout=300)


def pull(
    reg: Registry, repo_tag: str, tmp: Path, user: str | None, password: str | None
) -> subprocess.CompletedProcess[str]:
    """``skopeo copy`` from the registry to a dir: transport; returns the process (not checked)."""
    certs = reg.cert_dir(tmp / f"certs-{reg.container_name}")
    dest = tmp / f"pulled-{uuid.uuid4().hex[:6]}"
    args: list[str | Path] = ["skopeo", "copy", "--quiet", "--src-cert-dir", certs]
    if user is not None and password is not None:
        args += ["--src-authfile", auth_file(tmp, reg.push_host, user, password)]
    else:
        args += ["--src-no-creds"]
    return sh(*args, f"docker://{reg.push_host}/{repo_tag}", f"dir:{dest}", check=False, timeout=300)


MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"


def http_get(reg: Registry, path: str, password: str | None = None) -> tuple[int, bytes, float]:
    """GET over TLS (our CA) from this host: (status, body, seconds)."""
    headers = {"User-Agent": "regtest-host", "Accept": MANIFEST_TYPES}
    if password is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()
    request = urllib.request.Request(f"https://{reg.push_host}{path}", headers=headers)
    start = time.monotonic()
    try:
        with server.opener(reg.ca_cert).open(request, timeout=120) as resp:
            body = resp.read()
            return int(resp.status), body, time.monotonic() - start
    except urllib.error.HTTPError as err:
        return int(err.code), err.read(), time.monotonic() - start


#: Run in the client container's network namespace: a TLS GET to an IP, verifying the certificate for a name.
CLIENT_GET = textwrap.dedent(
    """
    import socket, ssl, sys
    ip, name, ca, path = sys.argv[1:5]
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection((ip, 443), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=name) as tls:
        head = f"GET {path} HTTP/1.1\\r\\nHost: {name}\\r\\nUser-Agent: regtest-client\\r\\n"
        tls.sendall((head + "Connection: close\\r\\n\\r\\n").encode())
        print(tls.recv(4096).split(b"\\r\\n", 1)[0].decode())
    """
)


@dataclass
class Client:
    name: str
    ip: str
    pid: int

    def get(self, reg: Registry, name: str, path: str = "/v2/") -> subprocess.CompletedProcess[str]:
        """An anonymous GET from this container's network namespace, TLS verified for ``name``."""
        return sh(
            "nsenter", "-t", str(self.pid), "-n", sys.executable, "-c", CLIENT_GET,
            reg.ip, name, reg.ca_cert, path, check=False,
        )  # fmt: skip


def requests_for(reg: Registry, since: datetime, *, kind: str | None = None) -> list[RegistryRequest]:
    found = witness.requests(reg, since, datetime.now(UTC) + timedelta(seconds=1))
    return [r for r in found if r.user_agent != server.READY_AGENT and (kind is None or r.kind == kind)]


def settle() -> None:
    """docker logs lags the container by a few milliseconds."""
    time.sleep(0.5)


# --- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_ok() -> None:
    why = docker_answers()
    if why is not None:
        pytest.skip(f"Docker does not answer (docker info: {why}); these tests need a real Docker daemon")


@pytest.fixture(scope="module")
def network(docker_ok: None) -> Iterator[str]:
    name = f"k8sdc-regtest-{uuid.uuid4().hex[:8]}"
    sh("docker", "network", "create", "--label", "k8sdc.io/owner=k8s-doc-conformance-tests", name)
    try:
        yield name
    finally:
        # Only what this module started can be on this network; remove it, then the network.
        leftover = sh("docker", "ps", "-aq", "--filter", f"network={name}", check=False).stdout.split()
        if leftover:
            sh("docker", "rm", "-f", "-v", *leftover, check=False)
        sh("docker", "network", "rm", name, check=False)


@pytest.fixture(scope="module")
def cleanup(docker_ok: None) -> Iterator[None]:
    with server.registries_cleanup():
        yield


@pytest.fixture(scope="module")
def password() -> str:
    return "pw-" + secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def run_id() -> str:
    return f"regtest-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def auth_registry(cleanup: None, network: str, run_id: str, password: str) -> Iterator[Registry]:
    reg = server.start_registry("auth", NAMES, network, run_id, {USER: password})
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def open_registry(cleanup: None, network: str, run_id: str) -> Iterator[Registry]:
    reg = server.start_registry("open", OPEN_NAMES, network, run_id)
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def client(network: str) -> Iterator[Client]:
    from k8s_doc_conformance.fixtures.images import forge

    ref = forge.busybox_image()
    name = f"k8sdc-regtest-client-{uuid.uuid4().hex[:6]}"
    sh("docker", "run", "-d", "--name", name, "--network", network, "--label", "k8sdc.io/role=regtest-client",
       ref, "sleep", "3600")  # fmt: skip
    try:
        info = json.loads(sh("docker", "inspect", name).stdout)[0]
        yield Client(name, info["NetworkSettings"]["Networks"][network]["IPAddress"], int(info["State"]["Pid"]))
    finally:
        sh("docker", "rm", "-f", name, check=False)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return docker_archive(tmp_path_factory.mktemp("archive") / "blob.tar", "regtest/blob:v1", BLOB_BYTES)


@pytest.fixture(scope="module")
def pushed(
    auth_registry: Registry,
    open_registry: Registry,
    archive: Path,
    password: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """``regtest/blob:v1`` pushed to both registries."""
    tmp = tmp_path_factory.mktemp("push")
    push(auth_registry, archive, "regtest/blob:v1", tmp, password)
    push(open_registry, archive, "regtest/blob:v1", tmp)
    return "regtest/blob:v1"


# --- no Docker needed --------------------------------------------------------------------------------------------

SAMPLE = [
    # anonymous request to the auth registry: a challenge, no "response completed" line; the access log has the 401
    '{"http.request.id":"r1","http.request.method":"GET","http.request.remoteaddr":"172.19.0.3:40000",'
    '"http.request.uri":"/v2/","http.request.useragent":"containerd/v1.6.20","level":"warning",'
    '"msg":"error authorizing context: basic authentication challenge for realm \\"k8sdc\\": invalid authorization '
    'credential","time":"2026-11-22T01:28:11.05635854Z"}',
    '172.19.0.3 - - [22/Nov/2026:01:28:11 +0000] "GET /v2/ HTTP/1.1" 401 87 "" "containerd/v1.6.20"',
    # good credentials: the user is named on the handler's debug line only
    '{"http.request.id":"r2","http.request.method":"GET","http.request.remoteaddr":"172.19.0.3:40002",'
    '"http.request.uri":"/v2/demo/app/manifests/v1","http.request.useragent":"containerd/v1.6.20","level":"info",'
    '"msg":"authorized request","time":"2026-11-22T01:28:12.000000000Z","vars.name":"demo/app","vars.reference":"v1"}',
    '{"auth.user.name":"alice","http.request.id":"r2","http.request.method":"GET",'
    '"http.request.remoteaddr":"172.19.0.3:40002","http.request.uri":"/v2/demo/app/manifests/v1",'
    '"http.request.useragent":"containerd/v1.6.20","level":"debug","msg":"GetImageManifest",'
    '"time":"2026-11-22T01:28:12.000100000Z","vars.name":"demo/app","vars.reference":"v1"}',
    '{"http.request.id":"r2","http.request.method":"GET","http.request.remoteaddr":"172.19.0.3:40002",'
    '"http.request.uri":"/v2/demo/app/manifests/v1","http.request.useragent":"containerd/v1.6.20",'
    '"http.response.duration":"5.5ms","http.response.status":200,"http.response.written":427,"level":"info",'
    '"msg":"response completed","time":"2026-11-22T01:28:12.005600000Z"}',
    # wrong password
    '{"http.request.id":"r3","http.request.method":"GET","http.request.remoteaddr":"172.19.0.4:40004",'
    '"http.request.uri":"/v2/demo/app/blobs/sha256:abcd","http.request.useragent":"skopeo/1.9.3","level":"error",'
    '"msg":"error authenticating user \\"alice\\": authentication failure","time":"2026-11-22T01:28:13Z",'
    '"vars.digest":"sha256:abcd","vars.name":"demo/app"}',
    '{"http.request.id":"r3","http.request.method":"GET","http.request.remoteaddr":"172.19.0.4:40004",'
    '"http.request.uri":"/v2/demo/app/blobs/sha256:abcd","http.request.useragent":"skopeo/1.9.3","level":"warning",'
    '"msg":"error authorizing context: basic authentication challenge for realm \\"k8sdc\\": authentication failure",'
    '"time":"2026-11-22T01:28:13.000200000Z","vars.digest":"sha256:abcd","vars.name":"demo/app"}',
    '172.19.0.4 - - [22/Nov/2026:01:28:13 +0000] "GET /v2/demo/app/blobs/sha256:abcd HTTP/1.1" 401 153 ""'
    ' "skopeo/1.9.3"',
    # tags list on the open registry
    '{"http.request.id":"r4","http.request.method":"GET","http.request.remoteaddr":"172.19.0.1:40006",'
    '"http.request.uri":"/v2/demo/app/tags/list?n=10","http.request.useragent":"skopeo/1.9.3",'
    '"http.response.duration":"1m2.5s","http.response.status":200,"http.response.written":36,"level":"info",'
    '"msg":"response completed","time":"2026-11-22T01:29:15Z"}',
]


def test_parser_reads_each_kind_of_log_line() -> None:
    base = datetime(2026, 11, 22, 1, 28, 11, tzinfo=UTC)
    lines = [(base + timedelta(microseconds=i), text) for i, text in enumerate(SAMPLE)]
    by_id = {r.request_id: r for r in witness.parse_lines(lines)}
    anon, good, bad, tags = by_id["r1"], by_id["r2"], by_id["r3"], by_id["r4"]
    assert (anon.kind, anon.status, anon.user, anon.authenticated, anon.remote_ip) == (
        "base", 401, None, False, "172.19.0.3"
    )  # fmt: skip
    assert (good.kind, good.repository, good.reference, good.status, good.user) == (
        "manifest", "demo/app", "v1", 200, "alice"
    )  # fmt: skip
    assert good.end - good.start == timedelta(microseconds=5500) and good.bytes_written == 427
    assert (bad.kind, bad.reference, bad.status, bad.user, bad.attempted_user) == (
        "blob", "sha256:abcd", 401, None, "alice"
    )  # fmt: skip
    assert (tags.kind, tags.path, tags.repository, tags.duration) == (
        "tags",
        "/v2/demo/app/tags/list",
        "demo/app",
        62.5,
    )


def test_rootfs_holds_binary_libraries_loader_and_config() -> None:
    if not image.BINARY.is_file():
        pytest.skip(f"{image.BINARY} not installed (Debian docker-registry)")
    with tarfile.open(fileobj=io.BytesIO(image.rootfs_tar())) as tar:
        files = {m.name for m in tar.getmembers() if m.isfile()}
        config = tar.extractfile(image.CONFIG_PATH.lstrip("/"))
        assert config is not None
        text = config.read().decode()
    libs = {str(p).lstrip("/") for p in image.shared_libraries(image.BINARY)}
    assert any("ld-linux" in lib for lib in libs), libs
    assert files == {"usr/bin/docker-registry", image.CONFIG_PATH.lstrip("/"), "etc/passwd", *libs}
    for needle in ("formatter: json", "disabled: false", "rootdirectory: /var/lib/registry", "addr: :443"):
        assert needle in text
    assert image.tag_version("2.8.2+ds1-1") == "2.8.2-ds1-1"


def test_pki_signs_names_and_ips_with_private_files(tmp_path: Path) -> None:
    cert = pki.server_cert(["sub.my-registry.test", "my-registry.test", "10.1.2.3"], tmp_path)
    again = pki.server_cert(["10.1.2.3", "my-registry.test", "sub.my-registry.test"], tmp_path)
    assert cert == again, "the cache is keyed by the sorted names"
    sh("openssl", "verify", "-CAfile", cert.ca_cert, cert.cert)
    text = sh("openssl", "x509", "-in", cert.cert, "-noout", "-text").stdout
    assert "DNS:my-registry.test, DNS:sub.my-registry.test, IP Address:10.1.2.3" in text
    for directory in (tmp_path / "pki" / "ca", cert.cert.parent):
        assert directory.stat().st_mode & 0o777 == 0o700
        assert all(p.stat().st_mode & 0o777 == 0o600 for p in directory.iterdir())
    assert {p.name for p in cert.cert.parent.iterdir()} == {".complete", "ca.crt", "tls.crt", "tls.key"}


# --- with Docker -------------------------------------------------------------------------------------------------


def test_image_is_local_and_tagged_by_version_and_content(docker_ok: None) -> None:
    ref = image.registry_image()
    version = image.tag_version(image.package_version())
    assert re.fullmatch(rf"k8sdc/registry:{re.escape(version)}-[0-9a-f]{{16}}", ref), ref
    info = json.loads(sh("docker", "image", "inspect", ref).stdout)[0]
    assert info["Config"]["Entrypoint"] == ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]
    assert image.registry_image() == ref, "a second call reuses the tag"


def test_anonymous_base_from_client_container(
    open_registry: Registry, auth_registry: Registry, client: Client, network: str
) -> None:
    since = datetime.now(UTC)
    for name in NAMES:
        lookup = sh("docker", "exec", client.name, "nslookup", name).stdout
        assert auth_registry.ip in lookup, f"{name} does not resolve to {auth_registry.ip} in the client: {lookup}"
    open_answer = client.get(open_registry, OPEN_NAMES[0])
    auth_answer = client.get(auth_registry, "sub.my-registry.test")
    print(
        f"from {client.name} ({client.ip}): open -> {open_answer.stdout.strip()}, auth -> {auth_answer.stdout.strip()}"
    )
    assert open_answer.stdout.startswith("HTTP/1.1 200"), open_answer.stderr
    assert auth_answer.stdout.startswith("HTTP/1.1 401"), auth_answer.stderr
    wrong_name = client.get(auth_registry, "other.test")
    assert "CERTIFICATE_VERIFY_FAILED" in wrong_name.stderr or "mismatch" in wrong_name.stderr, wrong_name.stderr
    settle()
    names = witness.client_names(network)
    for reg, status in ((open_registry, 200), (auth_registry, 401)):
        seen = [r for r in requests_for(reg, since, kind="base") if r.user_agent == "regtest-client"]
        assert [(r.method, r.path, r.status, r.user) for r in seen] == [("GET", "/v2/", status, None)], seen
        assert names.get(seen[0].remote_ip) == client.name, (seen[0].remote_addr, names)


def test_push_then_pull_with_good_user_is_witnessed(
    auth_registry: Registry, pushed: str, password: str, tmp_path: Path
) -> None:
    since = datetime.now(UTC)
    proc = pull(auth_registry, pushed, tmp_path, USER, password)
    assert proc.returncode == 0, proc.stderr
    settle()
    seen = requests_for(auth_registry, since)
    for r in seen:
        print(f"witness: {r.method} {r.kind} {r.repository}@{r.reference} -> {r.status} user={r.user}")
    manifests = [r for r in seen if r.kind == "manifest" and r.method == "GET"]
    assert manifests and all((m.status, m.user, m.repository, m.reference) == (200, USER, "regtest/blob", "v1")
                             for m in manifests), manifests  # fmt: skip
    blobs = [r for r in seen if r.kind == "blob" and r.method == "GET"]
    assert len(blobs) == 2 and all(b.status == 200 and b.user == USER for b in blobs), blobs
    assert max(b.bytes_written or 0 for b in blobs) >= BLOB_BYTES
    assert all(r.user_agent.startswith("skopeo/") and r.start <= r.end for r in seen)


def test_pull_with_wrong_password_is_refused(auth_registry: Registry, pushed: str, tmp_path: Path) -> None:
    since = datetime.now(UTC)
    proc = pull(auth_registry, pushed, tmp_path, USER, "not-the-password")
    assert proc.returncode != 0 and "unauthorized" in proc.stderr.lower(), proc.stderr
    settle()
    seen = requests_for(auth_registry, since)
    manifests = [r for r in seen if r.kind == "manifest"]
    assert manifests and all(m.status == 401 and m.user is None and m.attempted_user == USER for m in manifests)
    assert all(r.user is None and not r.authenticated for r in seen), seen


def test_anonymous_pull_is_refused_by_auth_and_served_by_open(
    auth_registry: Registry, open_registry: Registry, pushed: str, tmp_path: Path
) -> None:
    since = datetime.now(UTC)
    refused = pull(auth_registry, pushed, tmp_path, None, None)
    served = pull(open_registry, pushed, tmp_path, None, None)
    assert refused.returncode != 0 and served.returncode == 0, (refused.stderr, served.stderr)
    settle()
    denied = requests_for(auth_registry, since, kind="manifest")
    assert denied and all(r.status == 401 and r.user is None and r.attempted_user is None for r in denied)
    got = requests_for(open_registry, since, kind="manifest")
    assert got and all(r.status == 200 and r.user is None for r in got)


def test_slow_mode_slows_a_blob_download(open_registry: Registry, pushed: str) -> None:
    status, body, _ = http_get(open_registry, f"/v2/{pushed.split(':')[0]}/manifests/v1")
    assert status == 200, body
    layer = json.loads(body)["layers"][0]
    path = f"/v2/regtest/blob/blobs/{layer['digest']}"
    normal = min(http_get(open_registry, path)[2] for _ in range(2))
    rate = "2mbit"
    since = datetime.now(UTC)
    with slow.slow(open_registry, rate=rate):
        status, blob, slowed = http_get(open_registry, path)
        qdisc = slow.qdiscs(open_registry)
    after = http_get(open_registry, path)[2]
    qdisc_after = slow.qdiscs(open_registry)
    expected = len(blob) * 8 / slow.rate_bits(rate)
    print(
        f"blob of {len(blob) / 1e6:.2f} MB: {normal:.3f}s normally, {slowed:.2f}s at {rate} "
        f"(theory {expected:.2f}s), {after:.3f}s after the qdisc is removed"
    )
    assert status == 200 and len(blob) == layer["size"] >= BLOB_BYTES
    assert "tbf" in qdisc and "tbf" not in qdisc_after, (qdisc, qdisc_after)
    assert slowed >= 0.7 * expected and slowed >= 10 * normal, (normal, slowed)
    assert after < slowed / 5
    settle()
    witnessed = [r for r in requests_for(open_registry, since, kind="blob") if r.user_agent == "regtest-host"]
    print("witness durations: " + ", ".join(f"{r.duration:.2f}s" for r in witnessed))
    # The registry's duration ends once the last byte is in the kernel's socket buffer (up to a few MB with TCP
    # autotuning), so it is shorter than the client's time, yet far above a normal download.
    assert any(r.duration >= max(1.0, 0.25 * expected, 20 * normal) for r in witnessed), witnessed


RUNNER = textwrap.dedent(
    """
    import signal, sys, time
    from k8s_doc_conformance.fixtures.registry import server
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if our parent ignores it
    network, run_id, mode = sys.argv[1:4]
    if mode == "cleanup":
        with server.registries_cleanup():
            reg = server.start_registry("open", ["child.my-registry.test"], network, run_id)
            print(reg.container_id, flush=True)
            time.sleep(120)
    else:
        reg = server.start_registry("open", ["child.my-registry.test"], network, run_id)
        print(reg.container_id, flush=True)
        time.sleep(120)
    """
)


def start_child(network: str, run_id: str, mode: str) -> tuple[subprocess.Popen[str], str]:
    """A separate Python process that starts a registry, prints its container id, then sleeps."""
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, network, run_id, mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(NO_PROXY_ENV, PYTHONPATH=str(ROOT)),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        raise AssertionError(f"child did not start a registry: {proc.communicate(timeout=30)[1][-800:]}")
    return proc, line


def container_exists(container_id: str) -> bool:
    return sh("docker", "inspect", container_id, check=False).returncode == 0


def test_stale_cleanup_removes_registry_of_killed_process(
    network: str, run_id: str, auth_registry: Registry, open_registry: Registry
) -> None:
    proc, container_id = start_child(network, run_id, "plain")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert container_exists(container_id), "kill -9 leaves the registry behind"
    labels = json.loads(sh("docker", "inspect", container_id).stdout)[0]["Config"]["Labels"]
    assert labels[server.LABEL_PID] == str(proc.pid) and labels[server.LABEL_OWNER] == server.OWNER
    assert labels[server.LABEL_RUN] == run_id and labels[server.LABEL_ROLE] == "registry"
    removed = server.remove_stale()
    print(f"remove_stale removed {removed}")
    assert not container_exists(container_id)
    assert container_exists(auth_registry.container_id) and container_exists(open_registry.container_id)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_registries_of_a_process(network: str, run_id: str, signum: signal.Signals) -> None:
    proc, container_id = start_child(network, run_id, "cleanup")
    assert container_exists(container_id)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert not container_exists(container_id), err[-800:]
    if signum == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM, err[-800:]
    else:
        assert "KeyboardInterrupt" in err and proc.returncode != 0, err[-800:]


def test_no_password_in_witness_or_logs(
    auth_registry: Registry, pushed: str, password: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    since = datetime.now(UTC)
    pull(auth_registry, pushed, tmp_path, USER, password)
    pull(auth_registry, pushed, tmp_path, USER, password + "-wrong")
    settle()
    seen = requests_for(auth_registry, since)
    for r in seen:
        print(r)
    assert any(r.user == USER for r in seen) and any(r.attempted_user == USER for r in seen)
    everything = witness.requests(auth_registry, auth_registry.started_at - timedelta(minutes=5))
    certs = auth_registry.cert_dir(tmp_path / "certs")
    assert [p.name for p in certs.iterdir()] == ["ca.crt"], "only the public CA leaves the cache"
    raw = subprocess.run(["docker", "logs", auth_registry.container_id], capture_output=True, check=False)
    printed = capsys.readouterr()
    texts = {
        "witness": repr(everything),
        "registry log": (raw.stdout + raw.stderr).decode(errors="replace"),
        "test output": printed.out + printed.err,
        "registry repr": repr(auth_registry),
    }
    encoded = base64.b64encode(f"{USER}:{password}".encode()).decode()
    for what, text in texts.items():
        assert password not in text, f"the password appears in the {what}"
        assert encoded not in text and "Authorization" not in text, f"an Authorization header appears in the {what}"
    print(f"scanned {sum(len(t) for t in texts.values())} characters: no password, no Authorization header")


def test_a_challenged_request_keeps_its_401_beside_a_retry_with_credentials() -> None:
    """containerd's anonymous HEAD (401) and its retry with credentials (200) share method, path and client: the
    access log's 200 line belongs to the retry, not to the challenge."""
    challenge = (
        '{"http.request.id":"h1","http.request.method":"HEAD","http.request.remoteaddr":"172.19.0.3:41000",'
        '"http.request.uri":"/v2/demo/app/manifests/v1","http.request.useragent":"containerd/v1.6.20",'
        '"level":"warning","msg":"error authorizing context: basic authentication challenge for realm \\"k8sdc\\": '
        'invalid authorization credential","time":"2026-11-22T01:30:00.100000000Z"}'
    )
    retry = (
        '{"http.request.id":"h2","http.request.method":"HEAD","http.request.remoteaddr":"172.19.0.3:41002",'
        '"http.request.uri":"/v2/demo/app/manifests/v1","http.request.useragent":"containerd/v1.6.20",'
        '"http.response.duration":"1ms","http.response.status":200,"http.response.written":0,"level":"info",'
        '"msg":"response completed","time":"2026-11-22T01:30:00.090000000Z"}'
    )
    access_200 = '172.19.0.3 - - [22/Nov/2026:01:30:00 +0000] "HEAD /v2/demo/app/manifests/v1 HTTP/1.1" 200 0 "" "c"'
    access_401 = '172.19.0.3 - - [22/Nov/2026:01:30:00 +0000] "HEAD /v2/demo/app/manifests/v1 HTTP/1.1" 401 0 "" "c"'
    base = datetime(2026, 11, 22, 1, 30, 0, tzinfo=UTC)
    lines = [(base + timedelta(microseconds=i), t) for i, t in enumerate([retry, access_200, challenge, access_401])]
    by_id = {r.request_id: r for r in witness.parse_lines(lines)}
    assert (by_id["h1"].status, by_id["h2"].status) == (401, 200)
