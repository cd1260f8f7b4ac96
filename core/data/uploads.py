"""Your own images as a dataset: a .zip of class folders, IDX files zipped or an .npz, read in memory within limits.

Nothing is extracted to disk. What the archive holds is checked before any image is decoded: its size,
its paths (none may climb out or be absolute), links, archives inside it and zip bombs refuse the whole
upload with one message, so nothing is partly loaded. An image that cannot be read is listed on the
dataset card with its reason, and the rest are kept.
"""

from __future__ import annotations

import io
import re
import stat
import unicodedata
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from core.config import UPLOAD_DATASET
from core.data.datasets import (
    GZIP_MAGIC,
    IDX_NAMES,
    SPLIT_KEYS,
    ZIP_MAGIC,
    Dataset,
    DatasetError,
    _check_arrays,
    _idx_candidates,
    _parse_idx,
    _to_dataset,
)
from core.data.images import FORMAT_NAMES, ImageError, decode_image, preprocess_digit

# Told how many images are prepared so far, of how many: (done, total). A page draws it as a progress bar.
Progress = Callable[[int, int], None]
# Prepared images between two calls of a Progress (a few tenths of a second of preparing).
PROGRESS_EVERY = 50
MAX_UPLOAD_BYTES = 50 * 2**20
MAX_IMAGES = 20_000
MIN_CLASSES, MAX_CLASSES = 2, 20
MIN_IMAGES_PER_CLASS = 5
# What the archive may unpack to in memory, in all: photos and PNGs hardly compress, so 50 MB packed stays
# far below this, and 20,000 images in IDX files take 16 MB.
MAX_UNPACKED_BYTES = 200 * 2**20
MAX_MEMBERS = 2 * MAX_IMAGES  # entries of any kind, folders included
# A member that unpacks to more than this many times its packed size is a zip bomb, not data:
# MNIST's IDX files deflate about 5:1, photos and PNGs hardly at all.
MAX_RATIO = 200
RATIO_CHECKED_FROM = 2**20  # small members (a blank 28×28 BMP) may pack tighter and do no harm
TEST_SHARE = 0.2  # held out as the test set when the upload has none
SPLIT_SEED = 0  # fixed: the test set stays the same whatever the run's seed
IMAGE_SIZE = (28, 28)
EMPTY_ZIP_MAGIC = b"PK\x05\x06"  # a zip with nothing in it starts with its end record

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".npz", ".jar")
# Left out without a word: what file managers add beside the files people chose.
IGNORED_PARTS = ("__MACOSX",)
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")

ZIP_FIX = (
    "Expected a .zip of class folders (one folder per class, e.g. 0/, 1/, … holding its images), "
    "the four MNIST IDX files zipped, or an .npz with x_train and y_train."
)


class UploadError(DatasetError):
    """The whole upload is refused; the message says why and what to do. Nothing of it was kept."""


@dataclass(frozen=True)
class Refused:
    """One file left out, and why."""

    file: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """The same picture more than once: every file (or array row) that holds it, with its class."""

    files: tuple[str, ...]
    classes: tuple[str, ...]

    @property
    def across_classes(self) -> bool:
        return len(set(self.classes)) > 1


@dataclass(frozen=True)
class DatasetCard:
    """What a person should see before training on their upload."""

    source: str  # "class folders", "IDX files" or "npz"
    class_names: tuple[str, ...]
    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    test_given: bool  # False: the test set was split off here, stratified and seeded
    refused: tuple[Refused, ...]
    duplicates: tuple[Duplicate, ...]


@dataclass(frozen=True, eq=False)
class OwnData:
    """An upload made into a dataset, with its card."""

    dataset: Dataset
    card: DatasetCard


@dataclass(frozen=True, eq=False)
class LabelledImages:
    """Images with their classes: pixels (n, h, w) uint8, labels into class_names, and a name for each image."""

    pixels: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    names: tuple[str, ...]


# --- Public entry points ------------------------------------------------------------------------


def load_own_data(data: bytes, filename: str, progress: Progress | None = None) -> OwnData:
    """An uploaded .zip or .npz (its bytes) as a dataset with its card; UploadError refuses it whole.

    progress: told how many of a zip's pictures are prepared so far (their preparation is most of the time)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f'"{filename}" is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.',
            "Upload fewer or smaller images (a digit needs only a few hundred pixels a side).",
        )
    if data[:4] not in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
        raise UploadError(f'"{filename}" is not a .zip or .npz file (it does not start like one).', ZIP_FIX)
    return _own_data_from_members(read_zip(data, filename), filename, progress)


def load_own_path(path: str | Path) -> OwnData:
    """A .zip or .npz file, or a folder of class folders or of IDX files, as a dataset with its card."""
    path = Path(path).expanduser()
    if path.is_file():
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise UploadError(f"{path} is larger than {MAX_UPLOAD_BYTES // 2**20} MB.", _limits_text())
        return load_own_data(path.read_bytes(), path.name)
    if not path.is_dir():
        raise UploadError(f"{path} does not exist.", "Pass a .zip, an .npz or a folder of class folders.")
    return _own_data_from_members(read_folder(path), path.name)


def read_zip(data: bytes, filename: str = "the upload") -> dict[str, bytes]:
    """Every file of a zip, by its path inside, read in memory after the checks (see the module's docstring)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as error:
        raise UploadError(f'"{filename}" is not a readable zip file ({error}).', ZIP_FIX) from error
    with archive:
        infos = [info for info in archive.infolist() if not _ignored(info.filename)]
        _check_entries(infos, filename)
        return {
            _clean_path(info.filename): _read_member(archive, info, filename) for info in infos if not info.is_dir()
        }


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by its path inside, with the zip's checks (links and archives are refused)."""
    members, total = {}, 0
    for path in sorted(folder.rglob("*")):
        inside = path.relative_to(folder).as_posix()
        if _ignored(inside) or (path.is_dir() and not path.is_symlink()):
            continue
        if path.is_symlink():
            raise UploadError(f"{inside} in {folder} is a link.", "Copy the file itself into the folder.")
        _check_not_archive(inside, str(folder))
        total += path.stat().st_size
        if len(members) >= MAX_MEMBERS or total > MAX_UNPACKED_BYTES:
            raise UploadError(f"{folder} holds too many files or bytes.", _limits_text())
        members[inside] = path.read_bytes()
    return members


# --- Reading an archive safely -------------------------------------------------------------------


def _ignored(name: str) -> bool:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return not parts or any(part in IGNORED_PARTS for part in parts) or parts[-1] in IGNORED_NAMES


def _check_entries(infos: list[zipfile.ZipInfo], filename: str) -> None:
    """Refuse the archive for its table of contents alone, before anything is unpacked."""
    if len(infos) > MAX_MEMBERS:
        raise UploadError(f'"{filename}" holds {len(infos):,} entries; the limit is {MAX_MEMBERS:,}.', _limits_text())
    declared = 0
    for info in infos:
        name = info.filename
        if _climbs_out(name):
            raise UploadError(
                f'"{filename}" holds the path "{name}", which points outside the archive.',
                "Zip the class folders themselves, with paths relative to the folder that holds them.",
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UploadError(f'"{filename}" holds a link, "{name}".', "Zip the files themselves, not links to them.")
        if info.flag_bits & 0x1:
            raise UploadError(f'"{filename}" holds the encrypted file "{name}".', "Zip it again without a password.")
        if not info.is_dir():
            _check_not_archive(name, f'"{filename}"')
        declared += info.file_size
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _bomb(filename, name)
    if declared > MAX_UNPACKED_BYTES:
        raise UploadError(
            f'"{filename}" would unpack to {declared / 2**20:,.0f} MB; the limit is {MAX_UNPACKED_BYTES // 2**20} MB.',
            _limits_text(),
        )


def _climbs_out(name: str) -> bool:
    posix = name.replace("\\", "/")
    return posix.startswith("/") or bool(re.match(r"^[A-Za-z]:", posix)) or ".." in posix.split("/")


def _check_not_archive(name: str, where: str) -> None:
    lower = name.lower()
    gzipped_idx = any(
        lower.endswith(candidate.lower()) for stem in IDX_NAMES.values() for candidate in _idx_candidates(stem)
    )
    if lower.endswith(ARCHIVE_SUFFIXES) and not gzipped_idx:
        raise UploadError(
            f'{where} holds another archive, "{name}".',
            "Unpack it and put its images in the class folders: archives inside archives are not read.",
        )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, filename: str) -> bytes:
    """A member's bytes, never more than it declares: a member that unpacks to more is refused."""
    try:
        with archive.open(info) as member:
            raw = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
        # A damaged member: an image among others is listed later, as unreadable; anything else is refused.
        if info.filename.lower().endswith(IMAGE_SUFFIXES):
            return b""
        raise UploadError(f'"{info.filename}" in "{filename}" could not be unpacked ({error}).', ZIP_FIX) from error
    if len(raw) > info.file_size:
        raise _bomb(filename, info.filename)
    return raw


def _bomb(filename: str, member: str) -> UploadError:
    return UploadError(
        f'"{filename}" looks like a zip bomb: "{member}" unpacks to far more than its packed size.',
        "Zip the images themselves; a real dataset does not compress that well.",
    )


def _clean_path(name: str) -> str:
    """The member's path with forward slashes and Unicode in one normal form (zips from macOS decompose accents)."""
    return unicodedata.normalize("NFC", name.replace("\\", "/")).strip("/")


def _limits_text() -> str:
    return (
        f"The limits are {MAX_UPLOAD_BYTES // 2**20} MB packed, {MAX_IMAGES:,} images and "
        f"{MIN_CLASSES} to {MAX_CLASSES} classes of at least {MIN_IMAGES_PER_CLASS} images each."
    )


# --- What the archive holds ----------------------------------------------------------------------


def _own_data_from_members(members: dict[str, bytes], filename: str, progress: Progress | None = None) -> OwnData:
    npy = {PurePosixPath(name).stem: raw for name, raw in members.items() if name.endswith(".npy")}
    if "x_train" in npy and "y_train" in npy:
        return _from_arrays(_npz_arrays(npy, filename), filename, "npz")
    idx = _idx_members(members)
    if idx:
        return _from_arrays(_idx_arrays(idx, filename), filename, "IDX files")
    return _from_class_folders(members, filename, progress)


def _from_arrays(arrays: dict[str, np.ndarray], filename: str, source: str) -> OwnData:
    given = {key: value for key, value in arrays.items() if key in SPLIT_KEYS}
    test_given = "x_test" in given and "y_test" in given
    if not test_given:
        given["x_test"], given["y_test"] = given["x_train"][:1], given["y_train"][:1]  # only for the shared checks
    split = tuple(given[key] for key in SPLIT_KEYS)
    try:
        _check_arrays(split, [f'"{filename}" [{key}]' for key in SPLIT_KEYS], None)
    except DatasetError as error:
        raise UploadError(error.problem, error.fix) from error
    labels = np.asarray(given["y_train"], dtype=np.int64)
    count = int(max(labels.max(), given["y_test"].max())) + 1
    class_names = _array_class_names(arrays.get("class_names"), count)
    train = LabelledImages(given["x_train"], labels, class_names, tuple(f"x_train[{i}]" for i in range(len(labels))))
    test = None
    if test_given:
        y_test = np.asarray(given["y_test"], dtype=np.int64)
        test = LabelledImages(given["x_test"], y_test, class_names, tuple(f"x_test[{i}]" for i in range(len(y_test))))
    return _finish(train, test, filename, source, ())


def _array_class_names(names: np.ndarray | None, count: int) -> tuple[str, ...]:
    if names is not None and names.ndim == 1 and len(names) >= count:
        return tuple(str(name) for name in names[:count])
    return tuple(str(label) for label in range(count))


def _npz_arrays(npy: Mapping[str, bytes], filename: str) -> dict[str, np.ndarray]:
    arrays = {}
    for key in (*SPLIT_KEYS, "class_names"):
        if key in npy:
            try:
                arrays[key] = np.load(io.BytesIO(npy[key]), allow_pickle=False)
            except (ValueError, OSError, EOFError) as error:
                raise UploadError(f'"{filename}" [{key}] could not be read as an array ({error}).', ZIP_FIX) from error
    return arrays


def _idx_members(members: Mapping[str, bytes]) -> dict[str, tuple[str, bytes]]:
    """The IDX files, found by name anywhere in the archive: split key → (path, bytes)."""
    found = {}
    for key, stem in IDX_NAMES.items():
        candidates = [candidate.lower() for candidate in _idx_candidates(stem)]
        for name, raw in members.items():
            if PurePosixPath(name).name.lower() in candidates:
                found[key] = (name, raw)
    return found


def _idx_arrays(idx: Mapping[str, tuple[str, bytes]], filename: str) -> dict[str, np.ndarray]:
    if "x_train" not in idx or "y_train" not in idx:
        raise UploadError(
            f'"{filename}" holds some IDX files but not both {IDX_NAMES["x_train"]} and {IDX_NAMES["y_train"]}.',
            "Zip the training images and labels (and, if you have them, the t10k test files) together.",
        )
    arrays = {}
    for key, (name, raw) in idx.items():
        if raw[:2] == GZIP_MAGIC:
            raw = _gunzip(raw, name)
        try:
            arrays[key] = _parse_idx(raw, Path(name))
        except DatasetError as error:
            raise UploadError(error.problem, error.fix) from error
    return arrays


def _gunzip(raw: bytes, name: str) -> bytes:
    """Decompress in memory, never past the bound: a gzip inside a zip could be a bomb of its own."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(raw, MAX_UNPACKED_BYTES)
    except zlib.error as error:
        raise UploadError(f'"{name}" could not be decompressed ({error}).', "Zip the file again.") from error
    if inflater.unconsumed_tail:
        raise UploadError(f'"{name}" unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB.', _limits_text())
    return out


def _from_class_folders(members: Mapping[str, bytes], filename: str, progress: Progress | None = None) -> OwnData:
    found, refused = _decode_class_folders(members, filename, IMAGE_SIZE, progress)
    return _finish(found, None, filename, "class folders", refused)


def read_class_folders(
    path: str | Path, size: tuple[int, int] = IMAGE_SIZE
) -> tuple[LabelledImages, tuple[Refused, ...]]:
    """Every readable image of a .zip or folder of class folders at `size`, labelled by folder (no split, no
    minimum a class): what a model is scored on, with the files left out."""
    path = Path(path).expanduser()
    if path.is_file():
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise UploadError(f"{path} is larger than {MAX_UPLOAD_BYTES // 2**20} MB.", _limits_text())
        members = read_zip(path.read_bytes(), path.name)
    elif path.is_dir():
        members = read_folder(path)
    else:
        raise UploadError(f"{path} does not exist.", "Pass a .zip or a folder of class folders.")
    return _decode_class_folders(members, path.name, size)


def _decode_class_folders(
    members: Mapping[str, bytes], filename: str, size: tuple[int, int], progress: Progress | None = None
) -> tuple[LabelledImages, tuple[Refused, ...]]:
    files, refused, empty_classes = _class_files(members)
    if len(files) > MAX_IMAGES:
        raise UploadError(f'"{filename}" holds {len(files):,} images; the limit is {MAX_IMAGES:,}.', _limits_text())
    class_names = tuple(sorted({label for label, _ in files.values()} | empty_classes, key=_natural_order))
    _check_class_count(len(class_names), filename)
    pixels, labels, names = [], [], []
    for done, (name, (label, raw)) in enumerate(files.items()):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(files))
        try:
            pixels.append(prepare_image(raw, name, size))
        except ImageError as error:
            refused.append(Refused(name, str(error)))
            continue
        labels.append(class_names.index(label))
        names.append(name)
    if progress is not None:
        progress(len(files), len(files))
    images = np.stack(pixels) if pixels else np.zeros((0, *size), dtype=np.uint8)
    return LabelledImages(images, np.asarray(labels, dtype=np.int64), class_names, tuple(names)), tuple(refused)


def _class_files(members: Mapping[str, bytes]) -> tuple[dict[str, tuple[str, bytes]], list[Refused], set[str]]:
    """Image files by path → (class, bytes), files refused, and classes that are folders without files.

    A file's class is its folder; one folder around all the class folders (my_digits/0/a.png) is looked through.
    """
    paths = {name: PurePosixPath(name).parts for name in members}
    pictures = [parts for name, parts in paths.items() if name.lower().endswith(IMAGE_SUFFIXES)] or [()]
    wrapped = len({parts[:1] for parts in pictures}) == 1 and all(len(parts) >= 3 for parts in pictures)
    files, refused, folders = {}, [], set()
    for name, parts in paths.items():
        parts = parts[1:] if wrapped else parts
        if len(parts) < 2:
            refused.append(Refused(name, "not in a class folder: put each image in the folder named after its class."))
            continue
        label = parts[0].strip()
        folders.add(label)
        if not name.lower().endswith(IMAGE_SUFFIXES):
            refused.append(Refused(name, f"not an image this app reads ({FORMAT_NAMES})."))
            continue
        files[name] = (label, members[name])
    with_files = {label for label, _ in files.values()}
    return files, refused, folders - with_files


def prepare_image(raw: bytes, name: str, size: tuple[int, int] = IMAGE_SIZE) -> np.ndarray:
    """A file's pixels (bytes) as the model will see them: kept as is when already greyscale at `size`,
    else prepared the MNIST way (core.data.images)."""
    if not raw:
        raise ImageError(f'"{name}" is empty or damaged inside the archive.')
    grey = decode_image(raw, name)
    if grey.shape == tuple(size) and _is_greyscale(raw):
        return np.round(grey * 255).astype(np.uint8)
    return np.round(preprocess_digit(grey, size).model_input * 255).astype(np.uint8)


def _is_greyscale(raw: bytes) -> bool:
    with Image.open(io.BytesIO(raw)) as image:
        return image.mode in ("1", "L", "I;16", "I")


def _natural_order(name: str) -> tuple:
    """Class folders 0, 1, … 10 in number order; other names alphabetically, after numbers."""
    return (0, int(name), "") if name.isdigit() else (1, 0, name.casefold())


def _check_class_count(count: int, filename: str) -> None:
    if count > MAX_CLASSES:
        raise UploadError(
            f'"{filename}" holds {count} classes; the limit is {MAX_CLASSES}.',
            "Keep at most 20 class folders (labels), or merge some.",
        )


# --- The checks every kind of upload meets, then the dataset -------------------------------------


def _finish(
    train: LabelledImages, test: LabelledImages | None, filename: str, source: str, refused: tuple[Refused, ...]
) -> OwnData:
    total = len(train.labels) + (len(test.labels) if test is not None else 0)
    if total > MAX_IMAGES:
        raise UploadError(f'"{filename}" holds {total:,} images; the limit is {MAX_IMAGES:,}.', _limits_text())
    _check_class_count(len(train.class_names), filename)
    counts = np.bincount(train.labels, minlength=len(train.class_names))
    too_few = [index for index, count in enumerate(counts) if count < MIN_IMAGES_PER_CLASS]
    refused += tuple(
        Refused(
            f"{train.class_names[index]}/",
            f"the class has {counts[index]} readable images; it needs at least {MIN_IMAGES_PER_CLASS}.",
        )
        for index in too_few
    )
    train = _without_classes(train, too_few)
    test = _without_classes(test, too_few) if test is not None else None
    if len(train.class_names) < MIN_CLASSES:
        kept = ", ".join(train.class_names) or "none"
        raise UploadError(
            f'"{filename}" has {len(train.class_names)} class(es) with at least {MIN_IMAGES_PER_CLASS} readable '
            f"images (kept: {kept}); at least {MIN_CLASSES} are needed.",
            _limits_text(),
        )
    duplicates = find_duplicates(train, test)
    test_given = test is not None
    if test is None:
        train, test = stratified_split(train)
    dataset = _to_dataset(
        UPLOAD_DATASET,
        f"Your images: {filename}",
        f"{filename} ({source})",
        train.class_names,
        (train.pixels, train.labels, test.pixels, test.labels),
    )
    count = len(train.class_names)
    card = DatasetCard(
        source=source,
        class_names=train.class_names,
        train_counts=tuple(int(n) for n in np.bincount(train.labels, minlength=count)),
        test_counts=tuple(int(n) for n in np.bincount(test.labels, minlength=count)),
        test_given=test_given,
        refused=refused,
        duplicates=duplicates,
    )
    return OwnData(dataset, card)


def _without_classes(found: LabelledImages, dropped: Iterable[int]) -> LabelledImages:
    """The images of every class but `dropped`, relabelled 0, 1, … in the kept classes' order."""
    dropped = set(dropped)
    if not dropped:
        return found
    kept = [index for index in range(len(found.class_names)) if index not in dropped]
    new_label = np.full(len(found.class_names), -1, dtype=np.int64)
    new_label[kept] = np.arange(len(kept))
    keep = new_label[found.labels] >= 0
    return LabelledImages(
        found.pixels[keep],
        new_label[found.labels[keep]],
        tuple(found.class_names[index] for index in kept),
        tuple(name for name, kept_one in zip(found.names, keep, strict=True) if kept_one),
    )


def stratified_split(found: LabelledImages) -> tuple[LabelledImages, LabelledImages]:
    """(train, test): TEST_SHARE of each class held out for testing, chosen by a fixed seed."""
    rng = np.random.default_rng(SPLIT_SEED)
    test_rows = []
    for label in range(len(found.class_names)):
        rows = rng.permutation(np.flatnonzero(found.labels == label))
        test_rows.extend(rows[: max(1, round(len(rows) * TEST_SHARE))])
    is_test = np.zeros(len(found.labels), dtype=bool)
    is_test[test_rows] = True
    return _subset(found, ~is_test), _subset(found, is_test)


def _subset(found: LabelledImages, rows: np.ndarray) -> LabelledImages:
    names = tuple(name for name, chosen in zip(found.names, rows, strict=True) if chosen)
    return LabelledImages(found.pixels[rows], found.labels[rows], found.class_names, names)


def find_duplicates(train: LabelledImages, test: LabelledImages | None = None) -> tuple[Duplicate, ...]:
    """Every picture that appears more than once (the same pixels), in one class or across classes."""
    seen: dict[bytes, list[tuple[str, str]]] = defaultdict(list)
    for found in (train, test) if test is not None else (train,):
        for image, label, name in zip(found.pixels, found.labels, found.names, strict=True):
            seen[np.ascontiguousarray(image).tobytes()].append((name, found.class_names[label]))
    groups = [places for places in seen.values() if len(places) > 1]
    return tuple(Duplicate(tuple(name for name, _ in places), tuple(label for _, label in places)) for places in groups)


def duplicate_summary(card: DatasetCard) -> str:
    """One sentence on the duplicates: how many pictures repeat, and how many of those sit in two classes."""
    if not card.duplicates:
        return "No picture appears twice."
    across = sum(duplicate.across_classes for duplicate in card.duplicates)
    extra = sum(len(duplicate.files) - 1 for duplicate in card.duplicates)
    return (
        f"{len(card.duplicates)} picture(s) appear more than once ({extra} extra copies); "
        f"{across} of them sit in different classes, which teaches the model two answers for one picture."
    )


# --- The card's pictures, and saving by name ------------------------------------------------------

SAVED_SUFFIX = ".npz"
SAVE_NAME_PATTERN = re.compile(r"^[\w][\w .-]{0,59}$")


def class_mosaic(dataset: Dataset, per_class: int = 12, gap: int = 2) -> np.ndarray:
    """One picture: a row per class (in class order) of its first `per_class` training images, on black."""
    height, width = dataset.image_shape
    rows = dataset.num_classes
    mosaic = np.zeros((rows * (height + gap) - gap, per_class * (width + gap) - gap), dtype=np.uint8)
    for label in range(rows):
        top = label * (height + gap)
        for index, image in enumerate(dataset.pixels_train[dataset.y_train == label][:per_class]):
            left = index * (width + gap)
            mosaic[top : top + height, left : left + width] = image
    return mosaic


def save_own_data(dataset: Dataset, name: str, folder: str | Path) -> Path:
    """Write an upload's prepared images under `name` in `folder`, as an .npz this module reads back."""
    if not SAVE_NAME_PATTERN.match(name.strip()):
        raise UploadError(
            f"{name!r} cannot name a saved dataset.",
            "Use up to 60 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit.",
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.strip()}{SAVED_SUFFIX}"
    path.write_bytes(npz_bytes(dataset))
    return path


def npz_bytes(dataset: Dataset) -> bytes:
    """The prepared images as an .npz laid out like Keras's mnist.npz, with the class names: what this module,
    the "folder" dataset and an exported script read."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        x_train=dataset.pixels_train,
        y_train=dataset.y_train,
        x_test=dataset.pixels_test,
        y_test=dataset.y_test,
        class_names=np.array(dataset.class_names),
    )
    return buffer.getvalue()


def saved_names(folder: str | Path) -> list[str]:
    """The names of the datasets saved in `folder`, alphabetically."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted((path.stem for path in folder.glob(f"*{SAVED_SUFFIX}")), key=str.casefold)


def load_saved(name: str, folder: str | Path) -> OwnData:
    """A dataset saved by save_own_data, read back through the same checks as an upload."""
    if name not in saved_names(folder):
        raise UploadError(f"No dataset is saved as {name!r}.", "Choose one of the saved names, or upload it again.")
    return load_own_path(Path(folder) / f"{name}{SAVED_SUFFIX}")
