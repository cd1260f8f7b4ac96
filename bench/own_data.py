"""What the uploads loader's safety costs: a .zip of class folders read by core.data.uploads against the bare work.

    python bench/own_data.py                  # 2,000 pictures (200 a class), 5 pairs
    python bench/own_data.py --per-class 20   # a smoke run

The control opens the same zip with zipfile and prepares every picture with core.data.images, as the
loader does, but without its checks (paths, links, sizes, ratios), its duplicate search, its split
and its Dataset. The two alternate which goes first. Prints each pair's ratio (loader / control),
their median, and the loader's time per picture.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.images import decode_image, preprocess_digit
from core.data.uploads import load_own_data


def digits_zip(per_class: int) -> bytes:
    """scikit-learn's digits, upscaled to 32×32 PNGs (repeated when a class runs out), in class folders."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for label in range(10):
            images = digits.images[digits.target == label]
            for index in range(per_class):
                picture = io.BytesIO()
                big = np.kron(images[index % len(images)] * 255 / 16, np.ones((4, 4))).astype(np.uint8)
                Image.fromarray(big).save(picture, format="PNG")
                archive.writestr(f"my_digits/{label}/{index}.png", picture.getvalue())
    return buffer.getvalue()


def control(data: bytes) -> int:
    """The bare work: unzip, decode and prepare every picture."""
    count = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            preprocess_digit(decode_image(archive.read(name), name), (28, 28))
            count += 1
    return count


def timed(work, data: bytes) -> float:
    started = time.perf_counter()
    work(data)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args(argv)
    data = digits_zip(args.per_class)
    pictures = 10 * args.per_class
    print(f"{pictures:,} pictures in a {len(data) / 2**20:.1f} MB zip; {args.pairs} pairs, alternating")
    loader = lambda raw: load_own_data(raw, "bench.zip")  # noqa: E731
    ratios, loader_seconds = [], []
    for pair in range(args.pairs):
        if pair % 2 == 0:
            with_checks, bare = timed(loader, data), timed(control, data)
        else:
            bare, with_checks = timed(control, data), timed(loader, data)
        ratios.append(with_checks / bare)
        loader_seconds.append(with_checks)
        print(f"pair {pair + 1}: loader / control {ratios[-1]:.2f}x")
    median = statistics.median(loader_seconds) / pictures * 1000
    print(f"median loader / control: {statistics.median(ratios):.2f}x; the loader takes {median:.1f} ms a picture")
    return 0


if __name__ == "__main__":
    sys.exit(main())
