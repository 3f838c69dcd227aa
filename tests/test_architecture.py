"""The architecture is enforced, not described: layers by an import-linter contract, modules of
one job under ~400 lines, imports at module top except optional heavy packages."""
import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "assay"
ROOT = SRC.parents[1]
MAX_LINES = 420
#: Optional or slow-to-import packages that may be imported where they are used.
HEAVY = {"torch", "chgnet", "shap", "distributed", "sevenn", "optuna", "xgboost", "lightgbm",
         "nbformat", "nbclient", "pptx", "matminer", "elementembeddings", "matplotlib",
         "hypothesis", "importlinter", "umap"}


def test_import_layers_contract():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    r = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 kept, 0 broken" in r.stdout


def test_no_module_is_over_about_400_lines():
    big = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py")
           if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def _local_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    top = "." if sub.level else (sub.module or "").split(".")[0]
                elif isinstance(sub, ast.Import):
                    top = sub.names[0].name.split(".")[0]
                else:
                    continue
                if top not in HEAVY:
                    out.append(f"{path.relative_to(SRC)}:{sub.lineno}")
    return out


def test_imports_sit_at_module_top_except_heavy_optional_packages():
    found = [x for p in sorted(SRC.rglob("*.py")) for x in _local_imports(p)]
    assert not found, "function-local imports hide the layering: " + ", ".join(found[:40])
