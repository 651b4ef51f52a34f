"""Rebuild a run's reports, print its verdict table, or compare two runs.

``python -m k8s_doc_conformance.reports RUN`` rebuilds the run's reports from its ``verdicts.json`` and ``run.json``:
first, when the run has Allure results (``RUN/allure-results``) and the Allure command line is found (``--allure
PATH``, ``$ALLURE``, ``.nox/allure``, or ``allure`` on PATH), ``RUN/allure-report`` (with the trend history of the
previous run on the same cluster, see :mod:`reports.allure`); then ``compliance.html``, which links to it,
``junit.xml`` (``--junit-family xunit2|xunit1``, see :mod:`reports.junit`) and last ``results.tar.gz``, the whole run
directory in one archive (:mod:`reports.archive`). A part that fails is reported and the others are still built.

``python -m k8s_doc_conformance.reports summary RUN`` prints the run's verdict table (:mod:`reports.summary`);
``summary`` is the first argument that is not an option (a run directory named so: ``./summary``).

``python -m k8s_doc_conformance.reports matrix --out DIR RUN...`` writes the version matrix of runs made on different
Kubernetes releases (one run per release) to ``DIR/matrix.json`` and ``DIR/matrix.html`` (:mod:`reports.matrix`).

``python -m k8s_doc_conformance.reports --diff RUN_A RUN_B`` prints every claim whose verdict differs between the two
runs, one line each (``ID: A -> B``; a claim missing from one run shows ``absent``).

RUN is a run directory or its ``verdicts.json``; a bare name that is not a path here, such as ``latest`` or a run
ID, names a run in ``reports/out``. Every command checks the verdicts.json it reads (:mod:`reports.validate`).

Exit status:

- 0: done (``--diff``: no verdict differs);
- 1: ``--diff`` only: some verdict differs;
- 2: a report could not be built (a file could not be written, the Allure command line failed, ...): each
  problem is printed as ``reports: ...``;
- 3: interrupted (Ctrl-C);
- 4: bad input: a wrong command line, no such run, a verdicts.json or run.json that cannot be read or does not
  have the expected format: one line ``reports: ...`` on stderr, no traceback.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import yaml

from k8s_doc_conformance.reports import allure, archive, compliance, junit, matrix, runs, summary

EXIT_OK = 0
EXIT_DIFFERS = 1
EXIT_BROKEN = 2
EXIT_INTERRUPTED = 3
EXIT_BAD_INPUT = 4

#: Problems building a report (not the input's fault): reported, exit status 2.
BUILD_ERRORS = (OSError, ValueError, RuntimeError, subprocess.SubprocessError, yaml.YAMLError)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised as :class:`runs.BadInput` (exit status 4, one line)."""

    def error(self, message: str) -> NoReturn:
        raise runs.BadInput(f"{message} (see {self.prog} --help)")


def _claims(run: Path) -> dict[str, Any]:
    return runs.claims(runs.load_verdicts(run))


def diff(run_a: Path, run_b: Path) -> list[str]:
    """Lines ``ID: A -> B`` for every claim whose verdict differs between two runs, in ID order."""
    a, b = _claims(run_a), _claims(run_b)
    lines = []
    for claim_id in sorted(set(a) | set(b)):
        va = str(a[claim_id].get("verdict")) if claim_id in a else "absent"
        vb = str(b[claim_id].get("verdict")) if claim_id in b else "absent"
        if va != vb:
            lines.append(f"{claim_id}: {va} -> {vb}")
    return lines


def _out(text: object) -> None:
    """Print to stdout; a reader that went away (``| head``) ends the output, not the command."""
    if sys.stdout is None or getattr(sys.stdout, "closed", False):
        return
    try:
        print(text, flush=True)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's own flush at exit stays quiet
        os.close(devnull)


def _problem(message: object) -> None:
    print(f"reports: {' '.join(str(message).split())}", file=sys.stderr)


def rebuild(run_dir: Path, allure_cli: str | None, no_allure: bool, family: str) -> int:
    """Build every report of a run directory, each in turn; 2 if any failed."""
    runs.load_verdicts(run_dir)  # bad input stops everything
    runs.load_run(run_dir)
    steps: list[tuple[str, Callable[[], Path]]] = []
    if not no_allure and (run_dir / allure.RESULTS).is_dir():
        cli = allure.find_cli(allure_cli)
        if cli is None:
            _problem(
                f"no Allure command line (npm package allure-commandline {allure.ALLURE_VERSION}): "
                "skipping allure-report (nox -s report installs it)"
            )
        else:
            steps.append(("allure-report", lambda: allure.generate(run_dir, cli)))
    steps += [
        ("compliance.html", lambda: compliance.build(run_dir)),
        ("junit.xml", lambda: junit.build(run_dir, family)),
        (archive.NAME, lambda: archive.build(run_dir)),
    ]
    status = EXIT_OK
    for name, step in steps:
        try:
            _out(step())
        except BUILD_ERRORS as exc:
            _problem(f"{name} not built: {exc}")
            status = EXIT_BROKEN
    return status


def _matrix_main(argv: Sequence[str]) -> int:
    parser = _Parser(
        prog="python -m k8s_doc_conformance.reports matrix", description="Write the version matrix of runs on releases."
    )
    parser.add_argument("--out", required=True, type=Path, help="directory for matrix.json and matrix.html")
    parser.add_argument("runs", nargs="+", help="one run per Kubernetes release (directories, or runs in reports/out)")
    args = parser.parse_args(argv)
    page = matrix.build(args.runs, args.out)
    _out(f"version matrix: {page}")
    return EXIT_OK


def _summary_command(argv: Sequence[str]) -> list[str] | None:
    """The arguments of ``summary`` when it is the command (its first positional argument; options before it, such
    as the ``--allure PATH`` that ``nox -s report`` adds, are kept for the summary parser to ignore); else None."""
    i = 0
    while i < len(argv):
        if argv[i] in ("--allure", "--junit-family"):
            i += 2
        elif argv[i].startswith("-"):
            i += 1
        else:
            return [*argv[:i], *argv[i + 1 :]] if argv[i] == "summary" else None
    return None


def _summary_main(argv: Sequence[str]) -> int:
    parser = _Parser(
        prog="python -m k8s_doc_conformance.reports summary", description="Print the verdict table of a saved run."
    )
    parser.add_argument("run", help="a run directory, its verdicts.json, or a run in reports/out (e.g. latest)")
    for ignored in ("--allure", "--junit-family"):  # the rebuild's options, meaningless here
        parser.add_argument(ignored, help=argparse.SUPPRESS)
    parser.add_argument("--no-allure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    run = runs.resolve(args.run)
    _out(summary.render(runs.load_verdicts(run), runs.load_run(run)))
    return EXIT_OK


def _main(argv: Sequence[str]) -> int:
    if argv[:1] == ["matrix"]:
        return _matrix_main(argv[1:])
    summary_args = _summary_command(argv)
    if summary_args is not None:
        return _summary_main(summary_args)
    parser = _Parser(
        prog="python -m k8s_doc_conformance.reports",
        description="Rebuild a run's reports (RUN), print its verdicts (summary RUN), or compare two runs (--diff).",
        epilog="Exit status: 0 done, 1 --diff found differences, 2 a report could not be built, 3 interrupted, "
        "4 bad input. RUN: a run directory, its verdicts.json, or a run in reports/out such as 'latest'.",
    )
    parser.add_argument("--diff", nargs=2, metavar=("RUN_A", "RUN_B"), help="list claims whose verdict changed")
    parser.add_argument("--allure", metavar="PATH", help="the Allure command line (allure-commandline's bin/allure)")
    parser.add_argument(
        "--no-allure", action="store_true", help="do not build the Allure report (compliance.html keeps no links)"
    )
    parser.add_argument("--junit-family", choices=junit.FAMILIES, default=junit.FAMILIES[0], help="junit.xml flavour")
    parser.add_argument("run", nargs="?", help="a run's directory (with verdicts.json and run.json)")
    args = parser.parse_args(argv)
    if args.diff:
        if args.run is not None:
            parser.error("give either RUN or --diff RUN_A RUN_B")
        lines = diff(runs.resolve(args.diff[0]), runs.resolve(args.diff[1]))
        for line in lines:
            _out(line)
        return EXIT_DIFFERS if lines else EXIT_OK
    if args.run is None:
        parser.error("give RUN, summary RUN or --diff RUN_A RUN_B")
    run_dir = runs.run_dir_of(runs.resolve(args.run))
    return rebuild(run_dir, args.allure, args.no_allure, args.junit_family)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: the exit status (see the module's docstring)."""
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except runs.BadInput as exc:
        _problem(exc)
        return EXIT_BAD_INPUT
    except BUILD_ERRORS as exc:
        _problem(exc)
        return EXIT_BROKEN
    except KeyboardInterrupt:
        _problem("interrupted")
        return EXIT_INTERRUPTED
    except Exception:
        traceback.print_exc()
        return EXIT_BROKEN


if __name__ == "__main__":
    sys.exit(main())
