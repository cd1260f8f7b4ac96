"""Datasets of byte images with labels: MNIST, Fashion-MNIST, scikit-learn digits or a folder of IDX/npz."""

from __future__ import annotations

import contextlib
import gzip
import math
import os
import secrets
import socket
import struct
import threading
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from core.config import DATASETS, DEFAULT_DATASET, EMBEDDED_DATASET, UPLOAD_DATASET

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_DIR_ENV = "TRAINING_STUDIO_FASHION_MNIST_DIR"
DOWNLOAD_TIMEOUT_SECONDS = 15

DIGIT_NAMES = tuple(str(digit) for digit in range(10))
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
TITLES = {
    "mnist": "MNIST handwritten digits",
    "fashion_mnist": "Fashion-MNIST clothing",
    "digits": "scikit-learn digits",
}

# The four arrays of a dataset, in the order every loader returns them.
SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# IDX type codes (http://yann.lecun.com/exdb/mnist/); multi-byte values are big-endian.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"

# Models here are small and images are shown on screen: refuse sizes far from MNIST's 28×28.
MIN_SIDE, MAX_SIDE = 8, 64
# A folder may hold more than 10 classes (EMNIST letters); a huge label means a wrong file.
MAX_CLASSES = 100

FOLDER_FIX = (
    f"or choose '{DATASETS['folder']}' and point it to a folder with the four MNIST IDX files "
    "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, "
    "optionally .gz) or an mnist.npz."
)


class DatasetError(Exception):
    """A dataset could not be loaded; the message is complete and names the file at fault.

    `problem` says what happened and `fix` what to do, so a caller can put words in between.
    """

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(f"{problem} {fix}".strip())
        self.problem = problem
        self.fix = fix


class DatasetUnavailable(DatasetError):
    """The dataset cannot be had here: no network and no cache, or a folder or file is missing."""


class DatasetOffline(DatasetUnavailable):
    """A named dataset has no copy here and could not be downloaded (no network)."""


class DatasetFileError(DatasetError):
    """A file exists but is corrupt, truncated or of the wrong shape; the message names the file."""


@dataclass(frozen=True, eq=False)
class DatasetChoice:
    """What a chosen dataset gives a page: the data to train on, or why there is none and what to do.

    `notice` is set when the bundled digits stand in for the default MNIST (see choose_dataset).
    """

    dataset: Dataset | None
    notice: str | None = None
    error: DatasetError | None = None


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value; compare by identity
class Dataset:
    """Images as stored (whole-number pixels 0..pixel_max_raw, one byte each) with integer labels.

    Pixels stay bytes in memory, a quarter of float32's size (47 MB instead of 188 MB for MNIST's
    training images, shared by every session): they are scaled to [0, 1] where a model reads them,
    batch by batch while training (core.training.engine) and in `x_test` for the pages.
    """

    name: str
    title: str
    source: str
    class_names: tuple[str, ...]
    pixels_train: np.ndarray
    y_train: np.ndarray
    pixels_test: np.ndarray
    y_test: np.ndarray
    pixel_max_raw: int = 255  # the brightest possible pixel: scaled images are pixels / pixel_max_raw

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.pixels_train.shape[1:3])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def scaled(self, pixels: np.ndarray) -> np.ndarray:
        """Some of this dataset's pixels as images in the [0, 1] range, as a model sees them."""
        return scale_pixels(pixels, self.pixel_max_raw)

    @cached_property
    def x_test(self) -> np.ndarray:
        """The test images in the [0, 1] range (computed once; pages draw and predict from them)."""
        return _frozen(self.scaled(self.pixels_test))


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

_cache: dict[tuple[str, str | None], Dataset] = {}
_cache_lock = threading.Lock()
_key_locks: dict[tuple[str, str | None], threading.Lock] = {}
# Datasets people brought (core.data.uploads), by private key. Held weakly: the session that uploaded
# one (and any run training on it) keeps it alive, so it leaves memory when they end.
_private: weakref.WeakValueDictionary[str, Dataset] = weakref.WeakValueDictionary()
PRIVATE_KEY_PREFIX = "upload-"


# ---------------------------------------------------------------------------------------------
# Public entry points


def load_dataset(name: str, data_dir: str | None = None) -> Dataset:
    """Load a dataset by name, once per process; later calls return the same object."""
    if name == UPLOAD_DATASET:
        return _private_dataset(data_dir)
    key = (name, _cache_dir_key(name, data_dir))
    with _cache_lock:
        key_lock = _key_locks.setdefault(key, threading.Lock())
    # One lock per key: a slow download of MNIST does not hold up loading the digits.
    with key_lock:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        dataset = _load_wrapped(name, data_dir)
        with _cache_lock:
            _cache[key] = dataset
        return dataset


def keep_private(dataset: Dataset) -> str:
    """A new private key under which load_dataset("upload", key) finds `dataset`, while anyone holds it.

    The key is unguessable: only whoever is given it (the session, its runs, its room) reaches the data.
    """
    key = PRIVATE_KEY_PREFIX + secrets.token_urlsafe(16)
    with _cache_lock:
        _private[key] = dataset
    return key


def _private_dataset(key: str | None) -> Dataset:
    with _cache_lock:
        dataset = _private.get(key or "")
    if dataset is not None:
        return dataset
    if not (key or "").startswith(PRIVATE_KEY_PREFIX):
        raise DatasetUnavailable(
            f"Your own images are found by the key of an upload, and {key!r} is not one.",
            "Upload them on Train; from the command line, pass the .zip or .npz with --data-dir.",
        )
    raise DatasetUnavailable(
        "Your own images are no longer in this server's memory: they last as long as the session that uploaded them.",
        "Upload them again on Train, or choose another dataset.",
    )


def clear_dataset_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _key_locks.clear()


def choose_dataset(name: str, data_dir: str | None = None) -> DatasetChoice:
    """Load the dataset a person chose; never a silent substitute.

    Only the default MNIST, when it has no copy here and cannot be downloaded, falls back to the
    bundled digits, with a notice: an app opened offline must still train. Anything else that cannot
    be loaded (a missing folder, a corrupt file, Fashion-MNIST offline) is an error saying why and what
    to do, and nothing trains until it is fixed.
    """
    try:
        return DatasetChoice(load_dataset(name, data_dir))
    except DatasetOffline as error:
        if name == DEFAULT_DATASET and not data_dir:
            notice = " ".join(part for part in (error.problem, error.fix) if part)
            return DatasetChoice(load_dataset(EMBEDDED_DATASET), notice=notice)
        return DatasetChoice(None, error=error)
    except DatasetError as error:
        return DatasetChoice(None, error=error)


def load_dataset_or_fallback(name: str, data_dir: str | None = None) -> tuple[Dataset, str | None]:
    """choose_dataset's dataset and notice; raises its DatasetError when there is no dataset to train on."""
    choice = choose_dataset(name, data_dir)
    if choice.error is not None:
        raise choice.error
    return choice.dataset, choice.notice


def fallback_label(name: str) -> str:
    """The one line a page shows when the bundled digits stand in for `name` (choose_dataset's notice)."""
    title = DATASETS.get(name, name).split(" (")[0]
    return f"{title} cannot be downloaded here: training on the bundled 8×8 scikit-learn digits instead"


def scale_pixels(pixels: np.ndarray, pixel_max_raw: int) -> np.ndarray:
    """Scale images to the [0, 1] range: one float32 copy, then divided in place."""
    images = np.array(pixels, dtype=np.float32)
    images /= pixel_max_raw
    return images


def validation_size(size: int, validation_split: float) -> int:
    """How many of `size` images a split holds out for validation."""
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1); got {validation_split}.")
    # round(), not int(): 0.29 * 100 is 28.999… in floating point. Keep at least one training image.
    return min(round(size * validation_split), max(size - 1, 0))


def split_indices(size: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded shuffle of range(size): (training indices, validation indices); the first
    `validation_split` share of the shuffled order is held out for validation."""
    num_val = validation_size(size, validation_split)
    if num_val == 0:
        return np.arange(size), np.arange(0)
    order = np.random.default_rng(seed).permutation(size)
    return order[num_val:], order[:num_val]


def subsample_indices(size: int, n: int, seed: int) -> np.ndarray:
    """A seeded random choice of n indices out of range(size) (all of them, in order, if n >= size)."""
    if n < 1:
        raise ValueError(f"subsample needs at least 1 image; got n={n}.")
    if n >= size:
        return np.arange(size)
    return np.random.default_rng(seed).permutation(size)[:n]


def describe_available() -> dict[str, str]:
    """Where each dataset would come from right now, without touching the network."""
    mnist_npz = _keras_datasets_dir() / "mnist.npz"
    fashion = find_fashion_mnist_folder() or _complete_idx_folder(_keras_datasets_dir() / "fashion-mnist")
    needs_download = "not cached: needs one download"
    return {
        "digits": "bundled with scikit-learn",
        "mnist": _display(mnist_npz) if mnist_npz.is_file() else needs_download,
        "fashion_mnist": _display(fashion) if fashion else needs_download,
    }


# ---------------------------------------------------------------------------------------------
# File formats


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (MNIST's format), plain or gzip-compressed; gzip is told by its magic bytes."""
    path = Path(path)
    raw = _read_bytes(path)
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise DatasetFileError(
                f"{path} looks like a gzip file but could not be decompressed ({_short(error)}).",
                "It was probably cut short by an interrupted download or copy; get the file again.",
            ) from error
    return _parse_idx(raw, path)


def load_idx_folder(folder: str | Path, num_classes: int | None = 10) -> Arrays:
    """The four MNIST IDX files of a folder as raw arrays, checked to fit together.

    Labels must lie in 0..num_classes-1; with num_classes=None the count is read off the labels.
    """
    paths = _idx_paths(Path(folder))
    arrays = tuple(read_idx(paths[key]) for key in SPLIT_KEYS)
    _check_arrays(arrays, [str(paths[key]) for key in SPLIT_KEYS], num_classes)
    return arrays


def load_npz(path: str | Path, num_classes: int | None = 10) -> Arrays:
    """x_train, y_train, x_test, y_test from an .npz laid out like Keras's mnist.npz."""
    path = Path(path)
    fix = "Save the four arrays with numpy.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)."
    if _read_bytes(path, 4) != ZIP_MAGIC:
        raise DatasetFileError(f"{path} is not an .npz archive (it does not start like a zip file).", fix)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in SPLIT_KEYS if key not in archive.files]
            if missing:
                held = ", ".join(archive.files) or "nothing"
                raise DatasetFileError(f"{path} lacks the array(s) {', '.join(missing)}; it holds {held}.", fix)
            arrays = tuple(archive[key] for key in SPLIT_KEYS)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DatasetFileError(
            f"{path} could not be read as an .npz archive ({_short(error)}).",
            "It may be truncated; get the file again. " + fix,
        ) from error
    _check_arrays(arrays, [f"{path} [{key}]" for key in SPLIT_KEYS], num_classes)
    return arrays


def find_fashion_mnist_folder() -> Path | None:
    """The local Fashion-MNIST folder, if complete: $TRAINING_STUDIO_FASHION_MNIST_DIR or Debian's.

    When the environment variable is set, only that folder is looked at (tests rely on this).
    """
    override = os.environ.get(FASHION_MNIST_DIR_ENV)
    return _complete_idx_folder(Path(override) if override else DEBIAN_FASHION_MNIST)


# ---------------------------------------------------------------------------------------------
# Loading by name


def _load_wrapped(name: str, data_dir: str | None) -> Dataset:
    try:
        return _load(name, data_dir)
    except DatasetError:
        raise
    # A safety net: the checks above should have named the file, but no raw traceback reaches a page.
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        where = f" from {data_dir}" if data_dir else ""
        raise DatasetFileError(
            f"Could not load {name}{where}: {type(error).__name__}: {_short(error)}.",
            "Check that the files are complete MNIST-style IDX files or an mnist.npz.",
        ) from error


def _load(name: str, data_dir: str | None) -> Dataset:
    if name == "digits":
        return _load_digits()
    if name == "folder":
        if not data_dir:
            raise DatasetUnavailable(
                "The 'folder' dataset needs a folder, and none was given.",
                "Choose a folder with the four MNIST IDX files or an mnist.npz.",
            )
        path = Path(data_dir).expanduser()
        arrays, source = _load_user_path(path, num_classes=None)
        class_names = tuple(str(label) for label in range(_infer_num_classes(arrays[1])))
        return _to_dataset("folder", f"Your folder: {path.name}", source, class_names, arrays)
    if name in ("mnist", "fashion_mnist"):
        arrays, source = _load_standard(name, data_dir)
        class_names = DIGIT_NAMES if name == "mnist" else FASHION_NAMES
        return _to_dataset(name, TITLES[name], source, class_names, arrays)
    raise DatasetError(f"Unknown dataset {name!r}.", f"Choose one of: {', '.join(DATASETS)}.")


def _load_digits() -> Dataset:
    from core import libraries

    # Imported through core.libraries: first imports in worker threads can clash (see that module).
    libraries.load("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    # No official split: a fixed random_state keeps the test set the same whatever the user's seed.
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    arrays = (x_train, y_train, x_test, y_test)
    return _to_dataset("digits", TITLES["digits"], "scikit-learn (bundled)", DIGIT_NAMES, arrays, 16)


def _load_standard(name: str, data_dir: str | None) -> tuple[Arrays, str]:
    """MNIST or Fashion-MNIST: the given folder, else a local copy, else a Keras download."""
    if data_dir:
        return _load_user_path(Path(data_dir).expanduser(), num_classes=10)
    keras_dir = _keras_datasets_dir()
    if name == "mnist" and (keras_dir / "mnist.npz").is_file():
        cached = keras_dir / "mnist.npz"
        return _with_cache_fix(lambda: load_npz(cached), cached), f"Keras cache {_display(cached)}"
    if name == "fashion_mnist":
        local = find_fashion_mnist_folder()
        if local:
            return load_idx_folder(local), f"{_display(local)} (IDX files)"
        cached = _complete_idx_folder(keras_dir / "fashion-mnist")
        if cached:
            return _with_cache_fix(lambda: load_idx_folder(cached), cached), f"Keras cache {_display(cached)}"
    return _download(name), f"downloaded by Keras, cached in {_display(keras_dir)}"


def _load_user_path(path: Path, num_classes: int | None) -> tuple[Arrays, str]:
    """A folder of IDX files, a folder with an .npz, or an .npz file itself."""
    if path.is_file():
        return load_npz(path, num_classes), f"{path} (npz)"
    if not path.is_dir():
        raise DatasetUnavailable(f"The folder {path} does not exist.", "Check the path and try again.")
    if _complete_idx_folder(path):
        return load_idx_folder(path, num_classes), f"{path} (IDX files)"
    npz = _npz_in(path)
    if npz:
        return load_npz(npz, num_classes), f"{npz} (npz)"
    _idx_paths(path)  # raises DatasetUnavailable naming the missing files
    raise AssertionError("unreachable: _idx_paths found a complete folder")


def _download(name: str) -> Arrays:
    try:
        (x_train, y_train), (x_test, y_test) = _download_with_keras(name)
    except Exception as error:  # no network shows up as URLError, OSError, timeouts, Keras's own Exception…
        title = "MNIST" if name == "mnist" else "Fashion-MNIST"
        raise DatasetOffline(
            f"Could not download {title} ({_short(error)}).",
            f"Connect to the internet once so Keras can cache it in {_display(_keras_datasets_dir())}, " + FOLDER_FIX,
        ) from error
    arrays = (x_train, y_train, x_test, y_test)
    _check_arrays(arrays, [f"Keras's {name} {key}" for key in SPLIT_KEYS], 10)
    return arrays


def _download_with_keras(name: str):
    """Keras's own loader: downloads once into ~/.keras/datasets, then reads the cache."""
    from core import libraries

    libraries.load("keras")
    import keras

    loaders = {"mnist": keras.datasets.mnist, "fashion_mnist": keras.datasets.fashion_mnist}
    with _socket_timeout(DOWNLOAD_TIMEOUT_SECONDS):
        return loaders[name].load_data()


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Keras downloads with urlretrieve, which has no timeout of its own: without this a dead
    network can hang for minutes. The default is process-wide, so it is restored straight after."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _with_cache_fix(load: Callable[[], Arrays], path: Path) -> Arrays:
    """A broken file in Keras's cache is best deleted, so the next run downloads it again."""
    try:
        return load()
    except DatasetFileError as error:
        raise DatasetFileError(
            error.problem, f"Delete {_display(path)} so Keras downloads it again, " + FOLDER_FIX
        ) from error


def _to_dataset(
    name: str, title: str, source: str, class_names: tuple[str, ...], arrays: Arrays, pixel_max_raw: int = 255
) -> Dataset:
    x_train, y_train, x_test, y_test = arrays
    return Dataset(
        name=name,
        title=title,
        source=source,
        class_names=class_names,
        pixels_train=_frozen(np.asarray(x_train, dtype=np.uint8)),
        y_train=_frozen(y_train.astype(np.int64)),
        pixels_test=_frozen(np.asarray(x_test, dtype=np.uint8)),
        y_test=_frozen(y_test.astype(np.int64)),
        pixel_max_raw=pixel_max_raw,
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    # The cached arrays are shared by every run and session: nobody may change them in place.
    array.flags.writeable = False
    return array


# ---------------------------------------------------------------------------------------------
# Checks: every message names the file and says what was expected


def _read_bytes(path: Path, limit: int = -1) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(limit)
    except FileNotFoundError as error:
        raise DatasetUnavailable(f"{path} does not exist.", "Check the path and try again.") from error
    except OSError as error:
        raise DatasetFileError(
            f"{path} could not be read ({_short(error)}).", "Check that it is a readable file."
        ) from error


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    fix = "Expected an MNIST-style IDX file such as train-images-idx3-ubyte(.gz); get the file again."
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise DatasetFileError(
            f"{path} is not an IDX file: it should start with the bytes 00 00, but starts with "
            f"{raw[:4].hex(' ') or 'nothing (it is empty)'}.",
            fix,
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{known:02X}" for known in IDX_DTYPES)
        raise DatasetFileError(f"{path} has the unknown IDX type code 0x{code:02X}; expected one of {known}.", fix)
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DatasetFileError(f"{path} is truncated: it ends inside its {header_size}-byte header.", fix)
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = np.dtype(IDX_DTYPES[code])
    expected = math.prod(shape) * dtype.itemsize
    found = len(raw) - header_size
    if found != expected:
        what = "is truncated" if found < expected else "is longer than its header says"
        raise DatasetFileError(
            f"{path} {what}: its header describes an array of shape {shape} ({expected:,} bytes of data), "
            f"but {found:,} bytes follow.",
            fix,
        )
    # A view on the bytes: no copy until the one conversion to float32.
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)


def _check_arrays(arrays: Arrays, names: list[str], num_classes: int | None) -> None:
    """Images (n, h, w) of bytes, one integer label per image, labels in 0..num_classes-1."""
    x_train, y_train, x_test, y_test = arrays
    for x, name in ((x_train, names[0]), (x_test, names[2])):
        _check_images(x, name)
    for y, name in ((y_train, names[1]), (y_test, names[3])):
        _check_labels(y, name)
    if x_test.shape[1:] != x_train.shape[1:]:
        raise DatasetFileError(
            f"{names[2]} holds {_size(x_test)} images but {names[0]} holds {_size(x_train)} images.",
            "Training and test images must have the same size.",
        )
    for x, y, x_name, y_name in ((x_train, y_train, *names[:2]), (x_test, y_test, *names[2:])):
        if len(x) != len(y):
            raise DatasetFileError(
                f"{x_name} holds {len(x):,} images but {y_name} holds {len(y):,} labels; expected one label per image.",
                "Check that the two files belong together (train with train, t10k with t10k).",
            )
    if num_classes is None:
        num_classes = min(MAX_CLASSES, _infer_num_classes(y_train))
    for y, name in ((y_train, names[1]), (y_test, names[3])):
        _check_label_range(y, name, num_classes)


def _infer_num_classes(y_train: np.ndarray) -> int:
    # A folder is MNIST-like (10 classes) unless its labels go higher.
    return max(10, int(y_train.max()) + 1)


def _check_images(x: np.ndarray, name: str) -> None:
    if x.ndim != 3:
        raise DatasetFileError(
            f"{name} holds an array of shape {x.shape}; expected images of shape (count, height, width).",
            "Check that images and labels are not swapped.",
        )
    height, width = x.shape[1:]
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise DatasetFileError(
            f"{name} holds {_size(x)} images; expected 28×28 images like MNIST "
            f"(sizes from {MIN_SIDE}×{MIN_SIDE} to {MAX_SIDE}×{MAX_SIDE} are accepted).",
            "Resize the images or choose another dataset.",
        )
    if x.dtype != np.uint8:
        raise DatasetFileError(
            f"{name} holds {x.dtype} pixels; expected unsigned bytes 0–255 like MNIST.",
            "Save the images as uint8.",
        )
    if len(x) == 0:
        raise DatasetFileError(f"{name} holds no images.", "Check that the file is complete.")


def _check_labels(y: np.ndarray, name: str) -> None:
    if y.ndim != 1:
        raise DatasetFileError(
            f"{name} holds an array of shape {y.shape}; expected one label per image, shape (count,).",
            "Check that images and labels are not swapped.",
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise DatasetFileError(f"{name} holds {y.dtype} labels; expected whole numbers.", "Save labels as integers.")


def _check_label_range(y: np.ndarray, name: str, num_classes: int) -> None:
    outside = (y < 0) | (y >= num_classes)
    if outside.any():
        raise DatasetFileError(
            f"{name} holds the label {int(y[outside][0])} (among {int(outside.sum()):,} out of range); "
            f"expected labels from 0 to {num_classes - 1}.",
            "Check that the file holds class labels and belongs with the images.",
        )


# ---------------------------------------------------------------------------------------------
# Paths


def _idx_candidates(stem: str) -> list[str]:
    # "train-images-idx3-ubyte" is also seen as "train-images.idx3-ubyte"; either may be gzipped.
    dotted = stem.replace("-idx", ".idx")
    return [stem, stem + ".gz", dotted, dotted + ".gz"]


def _find_idx_files(folder: Path) -> dict[str, Path]:
    found = {}
    for key, stem in IDX_NAMES.items():
        for candidate in _idx_candidates(stem):
            if (folder / candidate).is_file():
                found[key] = folder / candidate
                break
    return found


def _idx_paths(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise DatasetUnavailable(f"The folder {folder} does not exist.", "Check the path and try again.")
    found = _find_idx_files(folder)
    missing = [f"{IDX_NAMES[key]}(.gz)" for key in SPLIT_KEYS if key not in found]
    if missing:
        raise DatasetUnavailable(
            f"{folder} lacks {', '.join(missing)}.",
            "A dataset folder needs the four MNIST IDX files train-images-idx3-ubyte, "
            "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte "
            "(each optionally .gz), or an mnist.npz.",
        )
    return found


def _complete_idx_folder(folder: Path) -> Path | None:
    return folder if folder.is_dir() and len(_find_idx_files(folder)) == len(IDX_NAMES) else None


def _npz_in(folder: Path) -> Path | None:
    """mnist.npz, or the only .npz in the folder."""
    if (folder / "mnist.npz").is_file():
        return folder / "mnist.npz"
    found = sorted(folder.glob("*.npz"))
    return found[0] if len(found) == 1 else None


def _keras_datasets_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser() / "datasets"


def _cache_dir_key(name: str, data_dir: str | None) -> str | None:
    if name == EMBEDDED_DATASET or not data_dir:
        return None
    return str(Path(data_dir).expanduser().resolve())


def _display(path: Path) -> str:
    """A path as a person would write it: ~/.keras/datasets rather than /home/someone/.keras/datasets."""
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) and path != home else str(path)


def _size(x: np.ndarray) -> str:
    return f"{x.shape[1]}×{x.shape[2]}"


def _short(error: BaseException, limit: int = 200) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
