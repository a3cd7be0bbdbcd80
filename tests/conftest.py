"""Hypothesis profiles and the long fuzz run.

* the default run loads the ``ci`` profile (hypothesis' usual 100 examples, no per-example
  deadline: the machines running the suite are shared); tests that set ``max_examples``
  themselves keep it;
* tests marked ``fuzz`` are skipped unless asked for: ``pytest -m fuzz`` (or the environment
  variable ``GBP_FUZZ=1``) runs them under the ``fuzz`` profile; ``--fuzz-examples N`` sets
  how many examples each fuzz test draws (default 5000).

At the end of a run, the counts of programs the fuzzers tried are printed (``fuzz_stats``).

Helpers every test file shares live here too (``from conftest import load_example, run_cli``):
the shipped examples, a graph from one, the command line in a fresh process.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import graphviz_bp as gbp

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "graphviz_bp" / "examples"


def example_path(name: str) -> Path:
    """A shipped example (``relu_network_sgd.txt``) as a path."""
    return EXAMPLES / name


def load_example(name, **kw):
    """The graph of a shipped example, by file name or path."""
    path = name if isinstance(name, Path) else EXAMPLES / name
    return gbp.parse(path.read_text(encoding="utf-8"), **kw)


def run_cli(*args, stdin=None, timeout=120, env=None):
    """``python -m graphviz_bp ARGS`` in a fresh process at the checkout's root, with no
    ``GRAPHVIZ_BP_*`` variables from the caller's environment unless ``env`` sets them."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHVIZ_BP_")}
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "graphviz_bp", *args], capture_output=True, text=True,
                          input=stdin, cwd=ROOT, env=environ, timeout=timeout)


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


def load_requested(config) -> bool:
    expr = (config.getoption("-m", default="") or "").replace("not load", "")
    return "load" in expr or os.environ.get("GBP_LOAD", "") not in ("", "0")


def pytest_collection_modifyitems(config, items):
    # the class-load test drives 30 Chromium pages for two minutes: on a 2-core machine the browser
    # alone takes ~270 of the ~470 CPU seconds there are, and its p95 assertion (< 3 s) fails there;
    # it runs when asked for (pytest -m load, or GBP_LOAD=1), not in the default run
    fuzz, load = fuzz_requested(config), load_requested(config)
    skip_fuzz = pytest.mark.skip(reason="the long fuzz run: pytest -m fuzz (or GBP_FUZZ=1)")
    skip_load = pytest.mark.skip(reason="the class-load test: pytest -m load (or GBP_LOAD=1)")
    for item in items:
        if "fuzz" in item.keywords and not fuzz:
            item.add_marker(skip_fuzz)
        if "load" in item.keywords and not load:
            item.add_marker(skip_load)


@pytest.fixture(scope="session")
def fuzz_stats() -> Counter:
    return FUZZ_STATS


def pytest_terminal_summary(terminalreporter):
    if FUZZ_STATS:
        terminalreporter.write_line("fuzz: " + ", ".join(f"{k} {v}" for k, v in sorted(FUZZ_STATS.items())))
    for note, text in list(FUZZ_NOTES.items())[:10]:
        terminalreporter.write_line(f"fuzz note: {note} (first seen with {text!r:.200})")
