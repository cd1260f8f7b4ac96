"""CPU priorities: the library preload yields to the server; the compute threads run at the training's niceness.

XLA's CPU backend starts its compute threads at its first computation, and they inherit the niceness
of the thread that runs it, for the life of the process. When the app's warm-up ran in the low-priority
preload thread, every later run computed at nice 10 and took 6-7× as long whenever two ordinary
processes wanted the same cores. The check runs in a fresh process (JAX's threads are per process).
"""

from __future__ import annotations

from tests.fresh_process import report_of

WARM_UP_NICENESS = 3  # neither the preload's 10 nor the default 0, so the test sees whose it is

REPORT_THREADS = f"""
import json, os, threading
from core import libraries

done = threading.Event()

def warm_up():
    import jax.numpy as jnp
    (jnp.ones((64, 64)) @ jnp.ones((64, 64))).block_until_ready()
    done.set()

libraries.start_background_load(then=warm_up, then_niceness={WARM_UP_NICENESS})
assert done.wait(240), "the warm-up did not run"
threads = []
for task in os.listdir(f"/proc/{{os.getpid()}}/task"):
    try:
        stat = open(f"/proc/{{os.getpid()}}/task/{{task}}/stat").read()
    except FileNotFoundError:  # a thread that ended meanwhile (the preload)
        continue
    name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
    threads.append([name, int(fields[16])])
print(json.dumps(threads))
"""


def test_the_warm_up_starts_the_compute_threads_at_the_training_niceness_not_the_preloads():
    threads = report_of(REPORT_THREADS)
    compute = [niceness for name, niceness in threads if name.startswith("tf_XLA")]
    assert compute, f"no XLA compute threads among {threads}"
    assert set(compute) == {WARM_UP_NICENESS}, f"XLA's compute threads run at niceness {compute}"
