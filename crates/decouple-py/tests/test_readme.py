"""The example of the README's Python section runs as written (plots drawn off-screen when matplotlib is installed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python blocks of the section `## Python` of a markdown text, in order."""
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = python_blocks(README.read_text())
    assert blocks, "README.md has no ```python block"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    scores = {line.split()[0]: float(line.split()[1]) for line in printed.splitlines() if line.startswith(("mask ", "none "))}
    assert set(scores) == {"mask", "none"}, printed
    # The README says it: high under the mask, low without augmentation.
    assert scores["mask"] > scores["none"], scores
