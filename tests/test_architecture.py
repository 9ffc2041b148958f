"""The architecture as tests: the import contracts over the real import graph, and the size rules
a newcomer relies on (small modules, few positional parameters, a docstring per subpackage)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("warehouse", "pipelines", "dashboard")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_MODULE_LINES = 500
MAX_POSITIONAL = 6


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run import-linter with ``root``'s pyproject.toml, importing the packages found in ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)


def _product_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_import_contract_is_kept() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.fixture(scope="module")
def copy_of_the_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three packages and pyproject.toml, copied so a test can add a forbidden import."""
    root = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__", "home"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize(("module", "forbidden", "contract"), [
    ("warehouse/storage/serving.py", "import pipelines.cli", "warehouse is a library"),
    ("warehouse/semantic/facts.py", "import streamlit", "warehouse is a library"),
    ("dashboard/components.py", "import pipelines.window", "the dashboard never imports"),
    ("pipelines/runs.py", "import dashboard.data", "never imports the dashboard"),
    ("warehouse/night/savings.py", "import warehouse.offline.backtest", "never import offline"),
    ("dashboard/identity.py", "import warehouse.demo.simulator", "never import offline"),
    ("warehouse/language/matcher.py", "import warehouse.forecasting.forecast", "layers point one way"),
    ("warehouse/storage/users.py", "import warehouse.semantic.catalogue", "layers point one way"),
])
def test_a_forbidden_import_breaks_its_contract(copy_of_the_tree: Path, module: str, forbidden: str,
                                                contract: str) -> None:
    path = copy_of_the_tree / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{forbidden}  # added by the test\n", encoding="utf-8")
    try:
        run = _lint_imports(copy_of_the_tree)
    finally:
        path.write_text(original, encoding="utf-8")
    assert run.returncode != 0
    broken = [line for line in run.stdout.splitlines() if line.rstrip().endswith("BROKEN")]
    assert any(contract in line for line in broken), run.stdout


@pytest.mark.parametrize("path", _product_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_the_size_a_reader_can_hold(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines; split it by job"


def test_no_function_takes_more_than_six_positional_parameters() -> None:
    offenders = []
    for path in _product_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                positional = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
                if len(positional) > MAX_POSITIONAL:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({len(positional)})")
    assert not offenders, "use keyword-only parameters or a dataclass: " + "; ".join(offenders)


@pytest.mark.parametrize("package", [ROOT / "warehouse", *sorted(p.parent for p in (ROOT / "warehouse").glob("*/__init__.py"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_warehouse_subpackage_says_its_job_and_what_it_may_import(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 25, f"{package.relative_to(ROOT)} needs a paragraph saying its job"
    assert "import" in doc.lower(), f"{package.relative_to(ROOT)}'s docstring must say what it may import"
