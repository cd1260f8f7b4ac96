"""The server's long-lived objects are out of the garbage collector's sight once its libraries are loaded.

A full collection scans every object the collector tracks while holding the GIL: with the libraries
loaded, about 240 ms in which no visitor's page and no training moved (bench/gc_pauses.py). The
background load freezes what is alive after the imports, and again after the warm-up. Checked in a
fresh process: the load starts once per process, and this one's may have started already.
"""

from __future__ import annotations

from tests.fresh_process import report_of

REPORT_FROZEN = """
import gc, json, threading, time, weakref
from core import libraries

class Program:
    kind = "what a warm-up keeps: a traced loop, its compiled programs"

kept = []
warmed = threading.Event()

def warm_up():
    kept.append(Program())
    warmed.set()

def tracked(target):
    return any(item is target for item in gc.get_objects())

libraries.start_background_load(then=warm_up, then_niceness=0)
assert warmed.wait(240), "the warm-up did not run"
deadline = time.monotonic() + 60
while tracked(kept[0]) and time.monotonic() < deadline:  # frozen right after the warm-up returns
    time.sleep(0.1)
import keras

later = Program()  # made after the freeze: collected as usual
later.cycle = later
gone = weakref.ref(later)
del later
gc.collect()
print(json.dumps({"frozen": gc.get_freeze_count(), "warm_up_tracked": tracked(kept[0]),
                  "keras_tracked": tracked(keras.__dict__), "later_freed": gone() is None}))
"""


def test_the_background_load_freezes_the_imports_and_the_warm_ups_objects():
    report = report_of(REPORT_FROZEN)
    assert report["frozen"] > 100_000, f"only {report['frozen']} objects frozen: the imports alone make ~400,000"
    assert not report["keras_tracked"], "Keras's module namespace is still scanned by every full collection"
    assert not report["warm_up_tracked"], "what the warm-up kept is still scanned by every full collection"
    assert report["later_freed"], "a cycle made after the freeze was not collected"
