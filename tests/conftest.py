"""Hypothesis profiles and the long fuzz run.

* the default run loads the ``ci`` profile (hypothesis' usual 100 examples, no per-example
  deadline: the machines running the suite are shared); tests that set ``max_examples``
  themselves keep it;
* tests marked ``fuzz`` are skipped unless asked for: ``pytest -m fuzz`` (or the environment
  variable ``GBP_FUZZ=1``) runs them under the ``fuzz`` profile; ``--fuzz-examples N`` sets
  how many examples each fuzz test draws (default 5000).

At the end of a run, the counts of programs the fuzzers tried are printed (``fuzz_stats``).
"""
from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings

FUZZ_STATS: Counter = Counter()
FUZZ_NOTES: dict = {}          # warning -> the first program that caused it

_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("ci", deadline=None, suppress_health_check=_QUIET, print_blob=True)


def pytest_addoption(parser):
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="examples per fuzz test for `-m fuzz` (default 5000)")


def fuzz_requested(config) -> bool:
    expr = (config.getoption("-m", default="") or "").replace("not fuzz", "")
    return "fuzz" in expr or os.environ.get("GBP_FUZZ", "") not in ("", "0")


def pytest_configure(config):
    if fuzz_requested(config):
        n = config.getoption("--fuzz-examples") or int(os.environ.get("GBP_FUZZ_EXAMPLES", "5000"))
        settings.register_profile("fuzz", deadline=None, suppress_health_check=_QUIET, print_blob=True,
                                  max_examples=n)
        settings.load_profile("fuzz")
    else:
        settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    if fuzz_requested(config):
        return
    skip = pytest.mark.skip(reason="the long fuzz run: pytest -m fuzz (or GBP_FUZZ=1)")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fuzz_stats() -> Counter:
    return FUZZ_STATS


def pytest_terminal_summary(terminalreporter):
    if FUZZ_STATS:
        terminalreporter.write_line("fuzz: " + ", ".join(f"{k} {v}" for k, v in sorted(FUZZ_STATS.items())))
    for note, text in list(FUZZ_NOTES.items())[:10]:
        terminalreporter.write_line(f"fuzz note: {note} (first seen with {text!r:.200})")
