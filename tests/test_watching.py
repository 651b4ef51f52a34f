"""watching.changes: one loop that resumes each watch window from the last version it saw, stops when told, and
hands errors to ``recover`` (or raises them)."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from k8s_doc_conformance.fixtures import watching


def _obj(version: str) -> Any:
    return SimpleNamespace(metadata=SimpleNamespace(resource_version=version))


class _Script:
    """Stands in for kubernetes.watch.Watch: each stream() call plays the next window (a list of events, or an
    exception to raise), and records the resource version it was asked to start from."""

    def __init__(self, windows: list[Any]) -> None:
        self.windows = windows
        self.asked: list[tuple[str | None, int, str | None]] = []

    def __call__(self) -> _Script:
        return self

    def stream(self, _call: Any, _ns: str, resource_version: str | None, timeout_seconds: int, **kw: Any) -> Any:
        self.asked.append((resource_version, timeout_seconds, kw.get("field_selector")))
        window = self.windows.pop(0) if self.windows else []
        if isinstance(window, Exception):
            raise window
        self.bookmarks = kw.get("allow_watch_bookmarks")
        for t, v in window:
            yield {"type": t, "object": {"metadata": {"resourceVersion": v}} if t == "BOOKMARK" else _obj(v)}


def test_each_window_resumes_from_the_last_version(monkeypatch: pytest.MonkeyPatch) -> None:
    script = _Script([[("MODIFIED", "11"), ("MODIFIED", "12")], [], [("DELETED", "15")]])
    monkeypatch.setattr(watching.watch, "Watch", script)
    seen = []
    for kind, obj in watching.changes(lambda: None, "ns", since="10", name="p"):
        seen.append((kind, obj.metadata.resource_version))
        if kind == "DELETED":
            break
    assert seen == [("MODIFIED", "11"), ("MODIFIED", "12"), ("DELETED", "15")]
    assert [a[0] for a in script.asked] == ["10", "12", "12"]
    assert all(a[2] == "metadata.name=p" for a in script.asked)


def test_bookmarks_move_the_version_on_and_are_not_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A quiet pod's own version ages out of the API server's watch cache (410 Expired); the server's bookmarks
    carry the version the watch has reached, and the next window starts from there."""
    script = _Script([[("MODIFIED", "11"), ("BOOKMARK", "90")], [("BOOKMARK", "95")], [("DELETED", "99")]])
    monkeypatch.setattr(watching.watch, "Watch", script)
    seen = []
    for kind, obj in watching.changes(lambda: None, "ns", since="10"):
        seen.append((kind, obj.metadata.resource_version))
        if kind == "DELETED":
            break
    assert seen == [("MODIFIED", "11"), ("DELETED", "99")]
    assert [a[0] for a in script.asked[:3]] == ["10", "90", "95"]
    assert script.bookmarks is True


def test_stop_and_deadline_end_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watching.watch, "Watch", _Script([[("ADDED", "1"), ("MODIFIED", "2")]]))
    assert [k for k, _ in watching.changes(lambda: None, "ns", stop=lambda: True)] == []
    calls = iter([False, True])
    monkeypatch.setattr(watching.watch, "Watch", _Script([[("ADDED", "1"), ("MODIFIED", "2")]]))
    assert [k for k, _ in watching.changes(lambda: None, "ns", stop=lambda: next(calls))] == ["ADDED"]
    past = time.monotonic() - 1
    assert list(watching.changes(lambda: None, "ns", deadline=past)) == []


def test_a_window_never_outlasts_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    script = _Script([[("ADDED", "1")]])
    monkeypatch.setattr(watching.watch, "Watch", script)
    for _ in watching.changes(lambda: None, "ns", deadline=time.monotonic() + 2.5, window=5):
        break
    assert script.asked[0][1] == 3


def test_errors_raise_unless_recovered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watching.watch, "Watch", _Script([ConnectionError("dropped")]))
    with pytest.raises(ConnectionError):
        list(watching.changes(lambda: None, "ns"))
    script = _Script([ConnectionError("dropped"), [("MODIFIED", "30")]])
    monkeypatch.setattr(watching.watch, "Watch", script)
    got = next(iter(watching.changes(lambda: None, "ns", since="5", recover=lambda _: "29")))
    assert got[1].metadata.resource_version == "30"
    assert [a[0] for a in script.asked] == ["5", "29"]
