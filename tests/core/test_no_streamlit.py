"""core/ is the engine: it never imports Streamlit (pages import core, never the other way)."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
# Imported only once Keras is loaded (core.libraries.load), never at the app's start.
KERAS_LAND = ("core.training.models", "core.training.callbacks", "core.training.jax_fit", "core.training.jax_layers")


def core_modules() -> dict[str, Path]:
    """Every module under core/, subpackages included, by dotted name."""
    modules = {}
    for path in sorted(CORE.rglob("*.py")):
        parts = path.relative_to(CORE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def test_the_search_reaches_the_subpackages():
    names = core_modules()
    assert "core.training.engine" in names and "core.jobs.runner" in names and "core.data.datasets" in names


def test_no_core_module_mentions_streamlit_in_an_import():
    offenders = []
    for name, path in core_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            imported = []
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            offenders += [f"{name}: {module}" for module in imported if module.split(".")[0] == "streamlit"]
    assert offenders == []


def test_importing_every_core_module_loads_neither_streamlit_nor_tensorflow_eagerly():
    light = [name for name in core_modules() if name not in (*KERAS_LAND, "core.__main__")]
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in light)
        + "print(sorted(m for m in ('streamlit', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CORE.parent, check=True)
    assert result.stdout.strip() == "[]"
