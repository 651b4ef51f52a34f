"""The image forge: deterministic layers (unit tests) and pushes to a real local registry (integration).

The integration tests start Debian's ``docker-registry`` as a plain process on 127.0.0.1, with TLS from a CA made
here and htpasswd auth, and push with crane built from the Go module proxy.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.errors import SetupError
from k8s_doc_conformance.fixtures.images import crane as crane_mod
from k8s_doc_conformance.fixtures.images import forge, layers, push
from k8s_doc_conformance.fixtures.images.crane import CraneSession, RegistryAccess, crane_session, docker_config

REGISTRY_BINARY = Path("/usr/bin/docker-registry")
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


# --- unit tests: deterministic layers ---------------------------------------------------------------------------


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of its own, so layer builds are observed rather than found."""
    monkeypatch.setenv("K8SDC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


def test_same_entries_in_any_order_give_the_same_bytes() -> None:
    entries = [
        layers.regular("etc/motd", b"hi\n"),
        layers.symlink("bin/sh", "busybox"),
        layers.regular("bin/busybox", b"\x7fELF", 0o755),
    ]
    one = layers.deterministic_tar(entries)
    two = layers.deterministic_tar(list(reversed(entries)))
    assert one == two
    assert layers.digest_of(one) == layers.digest_of(two)
    names = [m.name for m in members(one)]
    assert names == ["bin", "bin/busybox", "bin/sh", "etc", "etc/motd"]  # sorted, parents added


def test_metadata_is_fixed() -> None:
    data = layers.deterministic_tar([layers.regular("/a/b", b"x"), layers.directory("tmp", 0o1777)])
    for member in members(data):
        assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (0, 0, 0, "", "")
    assert {m.name: m.mode for m in members(data)} == {"a": 0o755, "a/b": 0o644, "tmp": 0o1777}


def test_bad_entries_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        layers.deterministic_tar([layers.regular("a", b"1"), layers.regular("/a", b"2")])
    with pytest.raises(ValueError, match="non-directory"):
        layers.deterministic_tar([layers.regular("a", b"1"), layers.regular("a/b", b"2")])
    with pytest.raises(ValueError, match="inside a layer"):
        layers.deterministic_tar([layers.regular("../etc/passwd", b"")])


def test_marker_layers_are_cached_by_content(private_cache: Path) -> None:
    first = layers.marker_layer("arch=amd64")
    again = layers.marker_layer("arch=amd64")
    other = layers.marker_layer("arch=arm64")
    assert first == again
    assert first.digest != other.digest
    assert first.path.is_relative_to(private_cache)
    assert layers.digest_of(first.path.read_bytes()) == first.digest
    (member,) = members(first.path.read_bytes())
    assert (member.name, member.mtime, member.uid) == ("marker", 0, 0)
    with tarfile.open(first.path) as tar:
        extracted = tar.extractfile(member)
        assert extracted is not None
        assert extracted.read() == b"arch=amd64"


def test_corrupt_cached_layer_is_rebuilt(private_cache: Path) -> None:
    layer = layers.marker_layer("x")
    layer.path.write_bytes(b"truncated")
    rebuilt = layers.marker_layer("x")
    assert layers.digest_of(rebuilt.path.read_bytes()) == rebuilt.digest == layer.digest


@pytest.mark.skipif(not forge.BUSYBOX.is_file(), reason="needs /bin/busybox (Debian busybox-static)")
def test_busybox_layer_has_a_symlink_per_applet(private_cache: Path) -> None:
    layer = layers.busybox_layer("amd64")
    assert layers.busybox_layer("amd64") == layer
    data = layer.path.read_bytes()
    assert forge.busybox_rootfs_tar() == data  # the docker-import rootfs is the same deterministic tar
    by_name = {m.name: m for m in members(data)}
    applets = forge._busybox.applets()
    assert "sh" in applets and "echo" in applets
    for applet in applets:
        assert by_name[f"bin/{applet}"].issym() and by_name[f"bin/{applet}"].linkname == "busybox"
    assert by_name["bin/busybox"].isfile() and by_name["bin/busybox"].mode == 0o755
    assert by_name["bin/busybox"].size == forge.BUSYBOX.stat().st_size
    assert by_name["tmp"].mode == 0o1777 and by_name["etc/passwd"].isfile()


def test_entrypoint_flag_survives_commas_and_quotes() -> None:
    values = ["/bin/sh", "-c", 'echo "a, b" c']
    # crane's --entrypoint is a pflag string slice, which reads its value as one CSV record.
    assert next(csv.reader([push.slice_flag(values)])) == values


def test_credentials_stay_out_of_reprs() -> None:
    ca = Path(__file__)  # any existing file will do for the repr
    access = RegistryAccess("127.0.0.1:5000", ca, ("user", "s3cret-pw"))
    assert "s3cret-pw" not in repr(access)
    config = docker_config("127.0.0.1:5000", ("user", "pw"))
    assert config == {"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwdw=="}}}
    assert docker_config("127.0.0.1:5000", None) == {"auths": {}}
    with pytest.raises(ValueError, match="ip:port"):
        RegistryAccess("https://127.0.0.1:5000", ca)


def test_platforms_parse() -> None:
    assert push.parse_platform("linux/arm64/v8") == ("linux", "arm64", "v8")
    with pytest.raises(ValueError):
        push.parse_platform("arm64")


# --- integration: a real registry on 127.0.0.1 --------------------------------------------------------------------


@dataclass(frozen=True)
class LocalRegistry:
    host: str
    ca_cert: Path
    other_ca: Path
    auth: tuple[str, str]
    log: Path

    def session(self) -> CraneSession:
        return CraneSession(RegistryAccess(self.host, self.ca_cert, self.auth))


def _need(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is missing: {hint}")
    return path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(directory: Path) -> tuple[Path, Path, Path, Path]:
    """A CA, a server certificate for IP 127.0.0.1 signed by it, and an unrelated CA: (ca, crt, key, other_ca)."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
                 "-subj", f"/CN=k8sdc forge test {name}", cwd=directory)  # fmt: skip
    _openssl("req", "-new", *ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=127.0.0.1", cwd=directory)
    (directory / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tls.crt", "-days", "2", "-extfile", "ext.cnf", cwd=directory)  # fmt: skip
    return directory / "ca.crt", directory / "tls.crt", directory / "tls.key", directory / "other-ca.crt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def registry_config(root: Path, port: int, crt: Path, key: Path, htpasswd: Path) -> str:
    return f"""\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
  secret: {secrets.token_hex(16)}
  tls:
    certificate: {crt}
    key: {key}
auth:
  htpasswd:
    realm: k8sdc-forge-test
    path: {htpasswd}
"""


@pytest.fixture(scope="module")
def crane_binary() -> Path:
    _need("go", "crane is built with the Go toolchain from the module proxy")
    return crane_mod.crane_binary()


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, crane_binary: Path) -> Iterator[LocalRegistry]:
    """Debian's docker-registry on 127.0.0.1:<free port>, TLS (our CA) and htpasswd auth; killed afterwards."""
    if not REGISTRY_BINARY.is_file():
        pytest.skip(f"{REGISTRY_BINARY} is missing: apt-get install docker-registry")
    _need("openssl", "apt-get install openssl")
    _need("htpasswd", "apt-get install apache2-utils")
    tmp = tmp_path_factory.mktemp("registry")
    ca, crt, key, other_ca = make_pki(tmp / "pki")
    user, password = "forge", secrets.token_urlsafe(12)
    htpasswd = tmp / "htpasswd"
    line = subprocess.run(
        ["htpasswd", "-niB", user], input=password.encode(), check=True, capture_output=True
    ).stdout.strip()
    htpasswd.write_bytes(line + b"\n")
    port = free_port()
    config = tmp / "config.yml"
    config.write_text(registry_config(tmp / "storage", port, crt, key, htpasswd))
    log = tmp / "registry.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    with log.open("wb") as out:
        proc = subprocess.Popen([REGISTRY_BINARY, "serve", config], stdout=out, stderr=subprocess.STDOUT, env=env)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"docker-registry exited ({proc.returncode}): {log.read_text()[-800:]}")
            try:
                crane_mod.verify_tls(host, ca, timeout=2)
                break
            except SetupError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield LocalRegistry(host, ca, other_ca, (user, password), log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def arm64_ready() -> None:
    for tool in ("apt-get", "dpkg-deb"):
        _need(tool, "the arm64 busybox comes from Debian's busybox-static:arm64 package")


def test_push_image_returns_the_digest_crane_reports(registry: LocalRegistry) -> None:
    spec = push.marker_image("hello from the forge")
    digest = push.push_image(
        registry.host,
        "forge/hello",
        "v1",
        spec.layers,
        spec.entrypoint,
        {"PATH": "/bin", "GREETING": "a=b"},
        ca_cert=registry.ca_cert,
        auth=registry.auth,
    )
    with registry.session() as crane:
        assert crane.digest(f"{registry.host}/forge/hello:v1") == digest
        manifest = crane.manifest(f"{registry.host}/forge/hello@{digest}")
        config = crane.config(f"{registry.host}/forge/hello@{digest}")
    assert manifest["mediaType"] == OCI_MANIFEST
    assert [layer["mediaType"] for layer in manifest["layers"]] == ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    assert config["rootfs"]["diff_ids"] == [layer.digest for layer in spec.layers if isinstance(layer, layers.Layer)]
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert config["config"]["Entrypoint"] == ["/bin/sh", "-c", "echo 'hello from the forge'"]
    assert config["config"]["Env"] == ["PATH=/bin", "GREETING=a=b"]
    # Same inputs, same digest: under another tag and in another repository.
    again = push.push_image(
        registry.host,
        "forge/hello-too",
        "v1",
        spec.layers,
        spec.entrypoint,
        {"PATH": "/bin", "GREETING": "a=b"},
        ca_cert=registry.ca_cert,
        auth=registry.auth,
    )
    assert again == digest


def test_index_lists_amd64_and_arm64(registry: LocalRegistry, arm64_ready: None) -> None:
    image = push.push_multiarch(registry.host, "forge/multi", "v1", ca_cert=registry.ca_cert, auth=registry.auth)
    assert set(image.platforms) == {"linux/amd64", "linux/arm64"}
    assert image.platforms["linux/amd64"] != image.platforms["linux/arm64"]
    with registry.session() as crane:
        ref = f"{registry.host}/forge/multi:v1"
        assert crane.digest(ref) == image.index
        index = crane.manifest(ref)
        assert index["mediaType"] == OCI_INDEX
        listed = {f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"] for m in index["manifests"]}
        assert listed == image.platforms
        for platform, digest in image.platforms.items():
            arch = platform.split("/")[1]
            config = crane.config(f"{registry.host}/forge/multi@{digest}")
            assert config["architecture"] == arch
            assert config["config"]["Entrypoint"] == ["/bin/sh", "-c", f"echo arch={arch}"]
    # The same children as a Docker manifest list.
    docker_list = push.push_index(
        registry.host,
        "forge/multi",
        "docker-list",
        image.platforms,
        oci=False,
        ca_cert=registry.ca_cert,
        auth=registry.auth,
    )
    with registry.session() as crane:
        manifest = crane.manifest(f"{registry.host}/forge/multi@{docker_list}")
    assert manifest["mediaType"] == DOCKER_LIST
    assert {m["digest"] for m in manifest["manifests"]} == set(image.platforms.values())


def test_repushed_tag_resolves_to_the_new_image(registry: LocalRegistry) -> None:
    first, second = push.push_mutable_tag(
        registry.host, "forge/mutable", "latest", ca_cert=registry.ca_cert, auth=registry.auth
    )
    assert first != second
    with registry.session() as crane:
        assert crane.digest(f"{registry.host}/forge/mutable:latest") == second
        assert crane.exists(f"{registry.host}/forge/mutable@{first}")  # the old image is still there by digest


def test_image_only_under_one_path(registry: LocalRegistry) -> None:
    digest = push.push_path_only(registry.host, "a/b", "only", ca_cert=registry.ca_cert, auth=registry.auth)
    with registry.session() as crane:
        assert crane.digest(f"{registry.host}/a/b:only") == digest
        assert not crane.exists(f"{registry.host}/a/c:only")
        assert not crane.exists(f"{registry.host}/a/c@{digest}")


def test_credentials_and_trust_are_enforced(registry: LocalRegistry) -> None:
    layer = layers.marker_layer("auth check")
    argv = (registry.host, "forge/auth", "v1", [layer], ["/bin/cat", "/marker"])
    with pytest.raises(SetupError, match=r"(?i)unauthorized|authentication required") as anonymous:
        push.push_image(*argv, ca_cert=registry.ca_cert)
    with pytest.raises(SetupError, match="TLS not verified") as untrusted:
        push.push_image(*argv, ca_cert=registry.other_ca, auth=registry.auth)
    password = registry.auth[1]
    assert password not in str(anonymous.value) and password not in str(untrusted.value)
    with crane_session(registry.host, registry.ca_cert, registry.auth) as crane:
        config_dir = crane.config_dir
        assert config_dir is not None
        assert config_dir.stat().st_mode & 0o777 == 0o700
        assert config_dir.parent.stat().st_mode & 0o777 == 0o700
        assert (config_dir / "config.json").stat().st_mode & 0o777 == 0o600
        assert password not in " ".join(crane.env.get(k, "") for k in crane.env)
    assert not config_dir.exists()
    assert password not in registry.log.read_text()
