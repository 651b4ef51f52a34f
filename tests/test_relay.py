"""The relay (fixtures/registry/relay-go): forwards to a TLS upstream it verifies with the suite's CA only, names
the node in X-Forwarded-For, answers its probe, and paces responses while throttled."""

from __future__ import annotations

import http.server
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from k8s_doc_conformance.fixtures.registry import pki, relay

BODY = os.urandom(200_000)


class Upstream(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        Upstream.seen.append(dict(self.headers))
        body = b"{}" if self.path == "/v2/" else BODY
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def upstream() -> Iterator[int]:
    cert = pki.server_cert(["127.0.0.1"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.cert, cert.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def running(upstream: int, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    binary = relay.relay_binary()
    listen = f"127.0.0.1:{free_port()}"
    env = {
        "RELAY_LISTEN": f"{listen}=https://127.0.0.1:{upstream}",
        "RELAY_NODE_IP": "10.9.8.7",
        "RELAY_CA": str(pki.ca_cert()),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while subprocess.run([binary, "probe"], env=env, capture_output=True).returncode != 0:
        assert time.monotonic() < deadline and proc.poll() is None, "relay never answered its probe"
        time.sleep(0.1)
    yield listen, env
    subprocess.run([binary, "throttle", "off"], env=env, check=False)
    proc.kill()


def fetch(listen: str, path: str) -> tuple[bytes, float]:
    start = time.monotonic()
    with urllib.request.urlopen(f"http://{listen}{path}", timeout=30) as resp:
        data = resp.read()
    return data, time.monotonic() - start


def test_names_the_node_and_forwards_over_verified_tls(running: tuple[str, dict[str, str]]) -> None:
    listen, _ = running
    Upstream.seen.clear()
    data, _ = fetch(listen, "/v2/blob")
    assert data == BODY
    assert Upstream.seen[-1]["X-Forwarded-For"].split(",")[0].strip() == "10.9.8.7"
    assert Upstream.seen[-1]["Host"] == listen  # the name the runtime used, for the witness


def test_refuses_an_upstream_its_ca_did_not_sign(upstream: int) -> None:
    """With the system's roots instead of the suite's CA, the upstream's certificate is not trusted: 502."""
    env = {
        "RELAY_LISTEN": f"127.0.0.1:{free_port()}=https://127.0.0.1:{upstream}",
        "RELAY_NODE_IP": "10.9.8.7",
        "RELAY_CA": "/etc/ssl/certs/ca-certificates.crt",
    }
    proc = subprocess.Popen([relay.relay_binary(), "serve"], env=env, stderr=subprocess.PIPE)
    time.sleep(0.5)
    probe = subprocess.run([relay.relay_binary(), "probe"], env=env, capture_output=True, text=True)
    proc.kill()
    assert probe.returncode != 0 and "502" in probe.stderr, probe.stderr


def test_throttle_paces_responses_and_off_restores(running: tuple[str, dict[str, str]]) -> None:
    listen, env = running
    subprocess.run([relay.relay_binary(), "throttle", "100000", "0"], env=env, check=True)
    time.sleep(0.4)  # re-read every 200 ms
    _, slow = fetch(listen, "/v2/blob")
    subprocess.run([relay.relay_binary(), "throttle", "off"], env=env, check=True)
    time.sleep(0.4)
    _, fast = fetch(listen, "/v2/blob")
    # 200 kB at 100 kB/s with a 32 KiB burst: about 1.7 s; unthrottled: milliseconds
    assert 1.4 < slow < 4.0, slow
    assert fast < 0.5, fast
