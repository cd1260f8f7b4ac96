"""A script run in a fresh Python process with the project importable: for what happens once per process
(the background load, the threads JAX starts at its first computation)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def report_of(script: str, timeout: float = 300) -> object:
    """Run `script` on JAX with no compile cache; the JSON its last printed line holds (it must exit 0)."""
    environment = {**os.environ, "KERAS_BACKEND": "jax", "TRAINING_STUDIO_COMPILE_CACHE": "off"}
    finished = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT, timeout=timeout
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])
