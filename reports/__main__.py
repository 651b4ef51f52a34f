"""Rebuild a run's reports, or compare two runs.

``python -m reports RUN_DIR`` rebuilds ``compliance.html`` and ``junit.xml`` from the run's ``verdicts.json`` and
``run.json``; when the run has Allure results (``RUN_DIR/allure-results``) and the Allure command line is found
(``--allure PATH``, ``$ALLURE``, ``.nox/allure``, or ``allure`` on PATH), it first builds ``RUN_DIR/allure-report``,
which compliance.html then links to.

``python -m reports --diff RUN_A RUN_B`` prints every claim whose verdict differs between the two runs,
one line each (``ID: A -> B``; a claim missing from one run shows ``absent``), and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reports import allure, compliance, junit


def _verdicts(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "verdicts.json" if run_dir.is_dir() else run_dir
    data = json.loads(path.read_text(encoding="utf-8"))
    claims = data.get("claims") if isinstance(data, dict) else None
    return claims if isinstance(claims, dict) else {}


def diff(run_a: Path, run_b: Path) -> list[str]:
    """Lines ``ID: A -> B`` for every claim whose verdict differs between two runs, in ID order."""
    a, b = _verdicts(run_a), _verdicts(run_b)
    lines = []
    for claim_id in sorted(set(a) | set(b)):
        va = str(a[claim_id].get("verdict")) if claim_id in a else "absent"
        vb = str(b[claim_id].get("verdict")) if claim_id in b else "absent"
        if va != vb:
            lines.append(f"{claim_id}: {va} -> {vb}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--diff", nargs=2, metavar=("RUN_A", "RUN_B"), type=Path, help="list claims whose verdict changed"
    )
    parser.add_argument("--allure", metavar="PATH", help="the Allure command line (allure-commandline's bin/allure)")
    parser.add_argument(
        "--no-allure", action="store_true", help="do not build the Allure report (compliance.html keeps no links)"
    )
    parser.add_argument("run_dir", nargs="?", type=Path, help="a run's directory (with verdicts.json and run.json)")
    args = parser.parse_args(argv)
    try:
        if args.diff:
            for line in diff(*args.diff):
                print(line)
            return 0
        if args.run_dir is None:
            parser.error("give RUN_DIR or --diff RUN_A RUN_B")
        run_dir = args.run_dir.resolve()
        if not args.no_allure and (run_dir / allure.RESULTS).is_dir():
            cli = allure.find_cli(args.allure)
            if cli is None:
                print(
                    f"reports: no Allure command line (npm package allure-commandline {allure.ALLURE_VERSION}): "
                    "skipping allure-report (nox -s report installs it)",
                    file=sys.stderr,
                )
            else:
                print(allure.generate(run_dir, cli))
        for out in (compliance.build(run_dir), junit.build(run_dir)):
            print(out)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"reports: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
