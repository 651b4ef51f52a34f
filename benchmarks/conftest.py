"""Benchmarks use the suite's fixtures but are not scenarios: they carry no claim."""
