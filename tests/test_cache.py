"""The build cache: keys follow content, partial or corrupt entries are rebuilt, complete ones reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8s_doc_conformance.fixtures.nodeimage import cache


def test_keys_follow_content(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("a")
    k1 = cache.cache_key("x", f)
    f.write_text("b")
    assert cache.cache_key("x", f) != k1
    assert cache.cache_key("x", 1) == cache.cache_key("x", 1)
    assert cache.cache_key("x", 1) != cache.cache_key("x", 2)


def test_files_key_sees_modes_and_names(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("1")
    k1 = cache.files_key(tmp_path)
    (tmp_path / "a").chmod(0o755)
    k2 = cache.files_key(tmp_path)
    (tmp_path / "a").rename(tmp_path / "b")
    assert len({k1, k2, cache.files_key(tmp_path)}) == 3


def test_complete_entry_is_reused(tmp_path: Path) -> None:
    calls: list[Path] = []

    def build(out: Path) -> None:
        calls.append(out)
        (out / "bin").write_text("payload")

    first = cache.cached_dir("thing", "k", build, root=tmp_path)
    second = cache.cached_dir("thing", "k", build, root=tmp_path)
    assert first == second and len(calls) == 1
    assert (first / "bin").read_text() == "payload"


def test_partial_entry_is_rebuilt(tmp_path: Path) -> None:
    entry = tmp_path / "thing" / "k"
    entry.mkdir(parents=True)
    (entry / "bin").write_text("half")  # no marker: an interrupted build
    built = cache.cached_dir("thing", "k", lambda out: (out / "bin").write_text("whole"), root=tmp_path)
    assert (built / "bin").read_text() == "whole"


def test_truncated_file_makes_entry_corrupt(tmp_path: Path) -> None:
    built = cache.cached_dir("thing", "k", lambda out: (out / "bin").write_text("payload"), root=tmp_path)
    (built / "bin").write_text("pay")  # size no longer matches the marker
    assert not cache.is_complete(built)
    rebuilt = cache.cached_dir("thing", "k", lambda out: (out / "bin").write_text("payload"), root=tmp_path)
    assert (rebuilt / "bin").read_text() == "payload"


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    def boom(out: Path) -> None:
        (out / "bin").write_text("x")
        raise RuntimeError("compiler crashed")

    with pytest.raises(RuntimeError):
        cache.cached_dir("thing", "k", boom, root=tmp_path)
    assert list((tmp_path / "thing").iterdir()) == []
