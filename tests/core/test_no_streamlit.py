"""core/ is the engine: it never imports Streamlit (pages import core, never the other way)."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def test_no_core_module_mentions_streamlit_in_an_import():
    offenders = []
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{path.name}: {name}" for name in names if name.split(".")[0] == "streamlit"]
    assert offenders == []


def test_importing_every_core_module_loads_neither_streamlit_nor_tensorflow_eagerly():
    # Keras-land modules (models, callbacks) are imported by the engine only once Keras is loaded.
    light = [p.stem for p in CORE.glob("*.py") if p.stem not in ("__main__", "models", "callbacks")]
    code = (
        "import sys\n"
        + "".join(f"import core.{name}\n" for name in light)
        + "print(sorted(m for m in ('streamlit', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=CORE.parent, check=True)
    assert result.stdout.strip() == "[]"
