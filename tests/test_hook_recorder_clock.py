"""The hook recorder's clock (fixtures/hook_recorder.py ``now``): busybox ``adjtimex`` reports ``time.tv_usec`` in
nanoseconds when the kernel's clock status has STA_NANO (as on our hosts: status 8256), in microseconds otherwise.
Read as microseconds, a nanosecond value below 100,000,000 came out up to 0.9 s late and reordered a preStop's end
and the TERM after it. The shell function runs here under the host's ``sh`` and ``awk`` with adjtimex's output
replayed."""

from __future__ import annotations

import subprocess

import pytest

from k8s_doc_conformance.fixtures import hook_recorder

ADJTIMEX = """    mode:         0
-o  offset:       0 us
-f  freq.adjust:  0 (65536 = 1ppm)
    maxerror:     16000000
    esterror:     16000000
    status:       {status} (UNSYNC)
-p  timeconstant: 2
    precision:    1 us
    tolerance:    32768000
-t  tick:         10000 us
    time.tv_sec:  1796288799
    time.tv_usec: {usec}
    return value: 5 (clock not synchronized)
"""


def _now(status: int, usec: int) -> float:
    """What the recorder's ``now`` prints when ``adjtimex`` says this."""
    fake = ADJTIMEX.format(status=status, usec=usec).replace("'", "")
    script = f"adjtimex() {{ printf '%s' '{fake}'; }}\n{hook_recorder._LIB}\nnow"
    return float(subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize(
    ("status", "usec", "expected"),
    [
        (8256, 92_300_000, 1796288799.0923),  # STA_NANO (8192) | STA_UNSYNC (64): nanoseconds
        (8256, 728_038_171, 1796288799.728038171),
        (8192, 5_000, 1796288799.000005),
        (64, 92_300, 1796288799.0923),  # microseconds
        (1, 999_999, 1796288799.999999),
    ],
)
def test_now_reads_micro_and_nanoseconds(status: int, usec: int, expected: float) -> None:
    assert _now(status, usec) == pytest.approx(expected, abs=1e-6)
