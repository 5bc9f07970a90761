"""Shared fixtures of the tests of the Python package ``decouple``.

Run from the repository root, after ``pip install ./crates/decouple-py``:
``python -m pytest crates/decouple-py/tests``. The comparison with the
command line uses the binary named by ``DECOUPLE_CLI``, or builds it
(``cargo build --release -p decouple-cli``) once per session.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import decouple

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parents[2]
SMALL = TESTS / "configs" / "small.toml"


@pytest.fixture(scope="session")
def small() -> Path:
    """The small config of every training test (``configs/small.toml``: d = 8, d1 = 64, width 16, 300 steps)."""
    return SMALL


@pytest.fixture(scope="session")
def small_run() -> decouple.Run:
    """One run of the small config with the built-in InfoNCE, shared by the tests that only read it."""
    return decouple.train(SMALL)


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


def _built_cli() -> Path:
    """``cargo build --release -p decouple-cli`` from the repository root; the path of the ``decouple`` binary it made."""
    command = ["cargo", "build", "--release", "-p", "decouple-cli", "--bin", "decouple", "--message-format=json-render-diagnostics"]
    try:
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        pytest.fail("the CLI comparison needs the decouple binary: set DECOUPLE_CLI, or install cargo to build it")
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stderr}")
    for line in result.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") and message["target"]["name"] == "decouple":
            return Path(message["executable"])
    pytest.fail(f"{' '.join(command)} reported no decouple executable")


@pytest.fixture(scope="session")
def cli() -> Path:
    """The ``decouple`` command-line binary: ``$DECOUPLE_CLI``, else built once by cargo."""
    named = os.environ.get("DECOUPLE_CLI")
    if named:
        path = Path(named)
        if not path.is_file():
            pytest.fail(f"DECOUPLE_CLI={named} is not a file")
        return path
    return _built_cli()
