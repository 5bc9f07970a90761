"""The package ``decouple``: every name of the stub re-exported, the version, the lazy submodules."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest

import decouple


def stub_names(stub: Path) -> set[str]:
    """The public top-level names of the stub ``_core.pyi``: classes, functions, assignments."""
    names: set[str] = set()
    for node in ast.parse(stub.read_text()).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return {name for name in names if not name.startswith("_") or name == "__version__"}


def test_every_name_of_the_stub_is_exported(repo: Path) -> None:
    names = stub_names(repo / "crates" / "decouple-py" / "python" / "decouple" / "_core.pyi")
    assert len(names) > 25, names
    assert sorted(names) == sorted(decouple.__all__)
    for name in names:
        assert getattr(decouple, name) is not None, name


def test_the_version_is_a_version_string() -> None:
    assert isinstance(decouple.__version__, str)
    assert decouple.__version__.split(".")[0].isdigit(), decouple.__version__


def test_the_package_is_typed() -> None:
    assert files("decouple").joinpath("py.typed").is_file()


def test_import_decouple_does_not_import_torch() -> None:
    code = "import sys, decouple; decouple.objectives; decouple.torch; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_submodules_load_on_first_use() -> None:
    assert decouple.torch.objective.__module__ == "decouple.torch"
    assert decouple.objectives.InfoNce.__module__ == "decouple.objectives"
    assert {"torch", "objectives"} <= set(dir(decouple))
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(decouple, "no_such_name")  # noqa: B009 (an attribute the type checker rightly refuses)
