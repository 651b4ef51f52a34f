"""The run in one file: ``<run-dir>/results.tar.gz``, to attach to a CI job or a bug report.

It holds every file of the run directory (verdicts.json, run.json, compliance.html, junit.xml, allure-results/,
allure-report/, logs and attachments) under one top folder named after the run (``<run-id>/verdicts.json``, ...),
in path order with owners cleared and a fixed gzip header, so the same files give the same archive. Left out: the
archive itself, hidden files and folders (names starting with ``.``: temporary files), symbolic links (they may
point outside the run) and the files named in ``leaked`` (found to contain a credential). Those names are kept in
``<run-dir>/.archive-exclude`` (one path per line, relative to the run), so that a later rebuild
(``python -m k8s_doc_conformance.reports RUN``, which knows no credentials) leaves them out too.
"""

from __future__ import annotations

import gzip
import os
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

NAME = "results.tar.gz"
EXCLUDE = ".archive-exclude"
"""The files every build of the run's archive leaves out (those found to contain a credential)."""


def excluded(run_dir: Path, leaked: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """The run's excluded files (``.archive-exclude``) and ``leaked`` (paths in the run directory, absolute or
    relative to it), as sorted relative POSIX paths; ``leaked`` is added to ``.archive-exclude``."""
    run_dir = Path(run_dir).resolve()
    record = run_dir / EXCLUDE
    known = set(record.read_text(encoding="utf-8").splitlines()) if record.is_file() else set()
    new = set()
    for name in leaked:
        path = Path(run_dir, name).resolve()
        if path.is_relative_to(run_dir) and path != run_dir:
            new.add(path.relative_to(run_dir).as_posix())
    names = sorted((known | new) - {""})
    if new - known:
        record.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
    return names


def members(run_dir: Path, leaked: Iterable[str | os.PathLike[str]] = ()) -> Iterator[Path]:
    """The files and folders the archive holds, relative to the run directory, depth first in name order (a folder
    before what it holds)."""
    run_dir = Path(run_dir).resolve()
    skip = {(run_dir / p).resolve() for p in leaked}

    def walk(folder: Path) -> Iterator[Path]:
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if path.name.startswith(".") or path.is_symlink() or path.resolve() in skip:
                continue
            if folder == run_dir and path.name == NAME:
                continue
            if path.is_dir():
                yield path.relative_to(run_dir)
                yield from walk(path)
            elif path.is_file():
                yield path.relative_to(run_dir)

    yield from walk(run_dir)


def _clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build(run_dir: Path, leaked: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Write ``run_dir/results.tar.gz`` (see the module's docstring) and return its path."""
    run_dir = Path(run_dir).resolve()
    top = run_dir.name
    out = run_dir / NAME
    tmp = run_dir / f".{NAME}.{os.getpid()}.tmp"
    try:
        with (
            open(tmp, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for relative in members(run_dir, excluded(run_dir, leaked)):
                path = run_dir / relative
                info = _clean(tar.gettarinfo(str(path), arcname=f"{top}/{relative.as_posix()}"))
                if info.isfile():
                    with open(path, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
