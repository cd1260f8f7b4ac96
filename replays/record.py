"""Record a lesson replay: run the app's own CLI on a real dataset, then state the machine and the command.

    python replays/record.py digits
    python replays/record.py fashion_mnist

Writes replays/<dataset>.json: the CLI's run record plus a "recorded" object (machine, date, command).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPLAYS = Path(__file__).resolve().parent
ROOT = REPLAYS.parent
# The lesson's model and settings for each dataset (5 epochs, Adam, sparse categorical cross-entropy).
LESSON_ARGUMENTS = {
    "digits": ["--epochs", "5", "--metrics", "accuracy"],
    "fashion_mnist": ["--epochs", "5", "--batch-size", "32", "--metrics", "accuracy"],
}


def machine() -> dict:
    """What the run was timed on, in words a presenter can read out."""
    return {
        "system": f"{platform.system()} {platform.machine()}",
        "cpu": _cpu_name(),
        "platform": platform.platform(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "keras": _version("keras"),
        "tensorflow": _version("tensorflow", "tensorflow-cpu"),
    }


def _cpu_name() -> str | None:
    """The processor's model name where the system says it (Linux's /proc/cpuinfo), else None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _version(*distributions: str) -> str | None:
    """The installed version under any of its distribution names (TensorFlow ships as tensorflow-cpu too)."""
    from importlib.metadata import PackageNotFoundError, version

    for name in distributions:
        try:
            return version(name)
        except PackageNotFoundError:
            continue
    return None


def record(dataset: str) -> Path:
    output = REPLAYS / f"{dataset}.json"
    command = [sys.executable, "-m", "core", "train", "--dataset", dataset, *LESSON_ARGUMENTS[dataset]]
    command += ["--json", str(output.relative_to(ROOT))]
    subprocess.run(command, cwd=ROOT, check=True)
    run_record = json.loads(output.read_text())
    run_record["recorded"] = {
        "machine": machine(),
        "date": datetime.date.today().isoformat(),
        "command": " ".join(["python", *command[1:]]),
    }
    output.write_text(json.dumps(run_record, indent=2) + "\n")
    return output


if __name__ == "__main__":
    for name in sys.argv[1:] or list(LESSON_ARGUMENTS):
        print(f"Recorded {record(name)}")
