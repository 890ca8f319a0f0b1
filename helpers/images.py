"""Worker code and tools for notebook 14_capstone_images: a batch of images, in parallel.

The job: a folder of a few hundred images of mixed sizes and formats, a few of them broken,
turned into JPEG thumbnails in an output folder, serially, in a thread pool and in a process
pool; every good image written, every bad one reported with its reason, no half-written
file left behind, and the result verified.

* **Input.** ``plan_inputs`` decides, from a seed, what each input file is (name, format,
  mode, size, or the defect of a broken file); ``write_input`` draws and writes one of them
  with Pillow and NumPy (gradients, shapes, noise: nothing downloaded); ``make_inputs``
  writes a whole folder.
* **The worker.** ``convert(task)`` turns one input into a thumbnail and returns an
  ``Outcome``; it never raises for a bad input, it reports it (``"ExceptionType: message"``).
  ``convert_or_raise`` is the naive version that lets the exception escape.
* **The safe write.** ``save_atomically`` writes to a temporary name in the output folder
  and renames it with ``os.replace``; ``save_directly`` writes to the final name.
  ``FailingWriter`` and ``crash_while_writing`` make a write fail half-way (an exception or
  the process killed) to show what each leaves behind.
* **Verification.** ``verify_outputs`` opens and decodes every output, checks its size
  against the plan and checks that the counts add up; ``leftover_parts`` and
  ``sweep_parts`` find and remove temporary files that a killed writer left.

Every function that another process runs lives here, so that spawn and forkserver workers
can import it. Workers never print: they return, and the notebook (the parent) prints.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import os
import random
import signal
import struct
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

SEED = 14
"""The seed of the course's input folder: the same files on every machine and every run."""

THUMB_SIDE = 160
"""The longest side of a thumbnail, in pixels."""

QUALITY = 85
"""The JPEG quality of the thumbnails."""

PART_SUFFIX = ".part"
"""How the temporary files of ``save_atomically`` end: ``.<final name>.<random>.part``."""

MIN_SIDE, MAX_SIDE = 64, 640
"""The smallest and largest side of a generated input image, in pixels."""

# The formats of the good inputs, with their weights, the modes each may have, and the
# file suffix. WebP is used only where this Pillow was built with it.
_FORMATS = {
    "JPEG": (50, ("RGB", "RGB", "RGB", "L"), ".jpg"),
    "PNG": (25, ("RGB", "RGBA", "L"), ".png"),
    "WEBP": (10, ("RGB", "RGBA"), ".webp"),
    "BMP": (10, ("RGB",), ".bmp"),
    "GIF": (5, ("P",), ".gif"),
}

DEFECTS = {
    "truncated": ("a JPEG cut off half-way, as an interrupted download leaves it", ".jpg"),
    "empty": ("an empty file, as a failed copy leaves it", ".png"),
    "html": ("an HTML error page saved under an image's name", ".jpg"),
    "corrupt": ("a PNG whose compressed pixel data is damaged", ".png"),
    "bomb": ("a PNG whose header claims 20000 x 20000 pixels (a decompression bomb)", ".png"),
}
"""The broken inputs ``plan_inputs`` can hide in the folder: defect -> (what it is, suffix)."""


# --- 1. The input folder -----------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One input file to generate: its ``name``, ``format`` and ``mode``, its ``size``
    (width, height) and the ``seed`` of its content; ``defect`` names what is wrong with a
    broken file (a key of ``DEFECTS``), None for a good image."""

    name: str
    format: str
    mode: str
    size: tuple[int, int]
    seed: int
    defect: str | None = None

    @property
    def good(self) -> bool:
        """Whether this file is a good image."""
        return self.defect is None


def formats_available() -> list[str]:
    """The formats of ``_FORMATS`` that this Pillow can write (WebP needs libwebp)."""
    from PIL import features

    return [f for f in _FORMATS if f != "WEBP" or features.check("webp")]


def plan_inputs(count: int = 250, bad: int = 5, seed: int = SEED) -> list[Spec]:
    """Decide what each of ``count`` input files is, from ``seed`` alone: ``bad`` of them
    are broken (the defects of ``DEFECTS`` in turn), spread through the folder; the others
    are good images of a random format, mode and size (each side 64 to 640 px).

    Names are ``img_000.jpg``, ``img_001.png``, ...: unique stems, so that no two inputs
    map to the same output name. The plan is a list; the same arguments give the same list
    on every machine and Python (``random.Random`` with an integer seed is stable).
    """
    if not 0 <= bad <= count:
        raise ValueError(f"bad must be between 0 and count ({count}), not {bad}")
    rng = random.Random(seed)
    formats = formats_available()
    weights = [_FORMATS[f][0] for f in formats]
    defects = list(DEFECTS)
    # Broken files at evenly spread positions, never the first (the notebook's example).
    bad_at = {1 + (i * (count - 1)) // bad + rng.randrange(max(1, (count - 1) // bad))
              for i in range(bad)} if bad else set()
    while len(bad_at) < bad:  # (only when count is tiny)
        bad_at.add(rng.randrange(count))
    bad_order = sorted(bad_at)
    specs = []
    for index in range(count):
        size = (rng.randint(MIN_SIDE, MAX_SIDE), rng.randint(MIN_SIDE, MAX_SIDE))
        content_seed = rng.randrange(2**32)
        if index in bad_at:
            defect = defects[bad_order.index(index) % len(defects)]
            fmt = "PNG" if DEFECTS[defect][1] == ".png" else "JPEG"
            specs.append(Spec(f"img_{index:03d}{DEFECTS[defect][1]}", fmt, "RGB", size,
                              content_seed, defect))
            continue
        fmt = rng.choices(formats, weights)[0]
        mode = rng.choice(_FORMATS[fmt][1])
        specs.append(Spec(f"img_{index:03d}{_FORMATS[fmt][2]}", fmt, mode, size, content_seed))
    return specs


def draw_image(spec: Spec) -> Any:
    """The picture of ``spec`` as a ``PIL.Image.Image``: a colour gradient, a few shapes and
    some noise, all from ``spec.seed``, in ``spec.mode`` (RGBA gets an alpha gradient, P a
    palette of the 216 "web-safe" colours)."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(spec.seed)
    width, height = spec.size
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    start = rng.uniform(0, 255, 3).astype(np.float32)
    end = rng.uniform(0, 255, 3).astype(np.float32)
    angle = np.float32(rng.uniform(0, 1))
    t = angle * x + (1 - angle) * y  # 0..1 across the image
    pixels = start + (end - start) * t[..., None]
    noise = 12 if spec.format == "JPEG" else 3  # noise makes PNGs large and slow to write
    pixels += rng.integers(-noise, noise + 1, pixels.shape, dtype=np.int8)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 7))):
        x0, x1 = sorted(rng.integers(0, width, 2).tolist())
        y0, y1 = sorted(rng.integers(0, height, 2).tolist())
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == 1:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        else:
            draw.line([x0, y0, x1, y1], fill=colour, width=max(1, min(width, height) // 40))
    if spec.mode == "L":
        return image.convert("L")
    if spec.mode == "RGBA":
        alpha = Image.fromarray((255 * (0.3 + 0.7 * t)).astype(np.uint8), "L")
        image.putalpha(alpha)
        return image
    if spec.mode == "P":
        return image.convert("P", palette=Image.Palette.WEB, dither=Image.Dither.NONE)
    return image


def _encode(image: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    params = {"JPEG": {"quality": 90}, "WEBP": {"quality": 80, "method": 0},
              "PNG": {"compress_level": 1}}.get(fmt, {})  # quick to write, still valid
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _broken_bytes(spec: Spec) -> bytes:
    """The content of a broken input file (``spec.defect``)."""
    from PIL import Image

    if spec.defect == "truncated":
        whole = _encode(draw_image(Spec(spec.name, "JPEG", "RGB", spec.size, spec.seed)), "JPEG")
        return whole[: len(whole) // 2]
    if spec.defect == "empty":
        return b""
    if spec.defect == "html":
        return (b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
                b"<body><h1>Not Found</h1></body></html>\n")
    if spec.defect == "corrupt":
        whole = bytearray(_encode(draw_image(Spec(spec.name, "PNG", "RGB", spec.size,
                                                  spec.seed)), "PNG"))
        start = whole.index(b"IDAT") + 4  # the first chunk of compressed pixel data
        length = struct.unpack(">I", whole[start - 8: start - 4])[0]
        middle = start + length // 2
        whole[middle: middle + 16] = bytes(16)  # zeroes in the middle of the zlib stream
        return bytes(whole)
    if spec.defect == "bomb":
        buffer = io.BytesIO()
        Image.new("L", (1, 1)).save(buffer, format="PNG")
        data = bytearray(buffer.getvalue())
        ihdr = data.index(b"IHDR")
        data[ihdr + 4: ihdr + 12] = struct.pack(">II", 20000, 20000)
        data[ihdr + 17: ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr: ihdr + 17])))
        return bytes(data)
    raise ValueError(f"unknown defect {spec.defect!r}")


def write_input(spec: Spec, folder: str | os.PathLike[str]) -> str:
    """Write the file of ``spec`` into ``folder``; return its name. Deterministic: the same
    spec gives the same bytes (with the same Pillow)."""
    data = _encode(draw_image(spec), spec.format) if spec.good else _broken_bytes(spec)
    Path(folder, spec.name).write_bytes(data)
    return spec.name


def make_inputs(folder: str | os.PathLike[str], count: int = 250, bad: int = 5,
                seed: int = SEED) -> list[Spec]:
    """Create ``folder`` (if needed) and write the ``count`` files of
    ``plan_inputs(count, bad, seed)`` into it; return the plan."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    specs = plan_inputs(count, bad, seed)
    for spec in specs:
        write_input(spec, folder)
    return specs


def describe_inputs(folder: str | os.PathLike[str]) -> list[str]:
    """A few lines about the files in ``folder``, read from the files themselves: how many,
    their total size, by suffix, and the smallest and largest image sides Pillow reports
    (files Pillow cannot open are counted apart)."""
    from PIL import Image

    paths = sorted(p for p in Path(folder).iterdir() if p.is_file())
    by_suffix = Counter(p.suffix for p in paths)
    sides, modes, unreadable = [], Counter(), 0
    for path in paths:
        try:
            with Image.open(path) as image:
                sides.extend(image.size)
                modes[image.mode] += 1
        except Exception:  # noqa: BLE001  (counting, not converting)
            unreadable += 1
    total = sum(p.stat().st_size for p in paths)
    return [
        f"{len(paths)} files, {total / 2**20:.1f} MiB in all",
        "by suffix: " + ", ".join(f"{s} {n}" for s, n in sorted(by_suffix.items())),
        "by mode (as Pillow opens them): " + ", ".join(f"{m} {n}" for m, n in sorted(modes.items())),
        f"image sides from {min(sides)} to {max(sides)} px; files Pillow cannot open: "
        f"{unreadable}",
    ]


def contact_sheet(paths: Sequence[str | os.PathLike[str]], columns: int = 8,
                  cell: int = 96) -> Any:
    """A ``PIL.Image.Image`` with a small copy of each image in ``paths`` on a grid (a file
    that cannot be read shows as a red cross): a look at a folder in one picture."""
    from PIL import Image, ImageDraw

    rows = max(1, math.ceil(len(paths) / columns))
    sheet = Image.new("RGB", (columns * cell, rows * cell), "white")
    for index, path in enumerate(paths):
        x, y = (index % columns) * cell, (index // columns) * cell
        try:
            with Image.open(path) as image:
                image.thumbnail((cell - 6, cell - 6))
                image = _flatten(image)
                sheet.paste(image, (x + (cell - image.width) // 2, y + (cell - image.height) // 2))
        except Exception:  # noqa: BLE001  (a broken file gets a cross)
            draw = ImageDraw.Draw(sheet)
            draw.line([x + 10, y + 10, x + cell - 10, y + cell - 10], fill="red", width=4)
            draw.line([x + 10, y + cell - 10, x + cell - 10, y + 10], fill="red", width=4)
    return sheet


def jpeg_bytes(image: Any, quality: int = 80) -> bytes:
    """``image`` encoded as a JPEG, for a notebook to display as ``{"image/jpeg": ...}``
    (a PIL image displays as both PNG and JPEG: twice the bytes in the notebook)."""
    buffer = io.BytesIO()
    _flatten(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


# --- 2. One image: the worker -------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """What the worker needs for one image: the input's path, the output folder, the
    thumbnail's longest side and the JPEG quality. Plain data: it pickles in a few hundred
    bytes, whatever the image's size."""

    source: str
    out_dir: str
    side: int = THUMB_SIDE
    quality: int = QUALITY


@dataclass(frozen=True)
class Outcome:
    """How one input ended: ``ok`` with the ``output`` file's name and ``size``, or not ok
    with the ``reason`` (``"ExceptionType: message"``, paths shortened to file names)."""

    name: str
    ok: bool
    output: str | None = None
    size: tuple[int, int] | None = None
    reason: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"{self.name}: ok -> {self.output} {self.size[0]}x{self.size[1]}"
        return f"{self.name}: FAILED, {self.reason}"


def tasks_for(in_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str],
              side: int = THUMB_SIDE, quality: int = QUALITY) -> list[Task]:
    """One ``Task`` per file of ``in_dir``, in name order (hidden files left out)."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return [Task(str(path), str(out_dir), side, quality)
            for path in sorted(Path(in_dir).iterdir())
            if path.is_file() and not path.name.startswith(".")]


def thumbnail_size(size: tuple[int, int], side: int = THUMB_SIDE) -> tuple[int, int]:
    """The size of the thumbnail of an image of ``size``: the longest side becomes ``side``,
    the other keeps the aspect ratio (rounded, at least 1 px); an image that is small
    enough already keeps its size (no enlarging)."""
    width, height = size
    longest = max(width, height)
    if longest <= side:
        return width, height
    scale = side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def output_name(source: str | os.PathLike[str]) -> str:
    """The output file's name for an input: its stem with ``.jpg``."""
    return Path(source).stem + ".jpg"


def _flatten(image: Any) -> Any:
    """``image`` in a mode JPEG can store (RGB or L): transparency goes onto white, a
    palette is expanded. (Saving RGBA as JPEG raises ``OSError: cannot write mode RGBA as
    JPEG``.)"""
    from PIL import Image

    if image.mode in ("RGB", "L"):
        return image
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def make_thumbnail(source: str | os.PathLike[str], side: int = THUMB_SIDE) -> Any:
    """Open ``source``, decode it and return its thumbnail as an RGB or L image.

    ``Image.open`` only reads the header; ``draft`` lets the JPEG decoder scale down while
    it decodes (1/2, 1/4, 1/8), then ``resize`` with Lanczos filtering gives the exact size
    of ``thumbnail_size``. Raises whatever Pillow raises for a bad file.
    """
    from PIL import Image

    with Image.open(source) as image:
        target = thumbnail_size(image.size, side)
        image.draft("RGB" if image.mode != "L" else "L", target)  # JPEG only; others ignore it
        image = _flatten(image)
        if image.size != target:
            image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
        else:
            image = image.copy()  # decoded, detached from the file
    return image


def reason_for(error: BaseException, source: str | os.PathLike[str]) -> str:
    """``"ExceptionType: message"`` for a failed input, the input's folder left out of the
    message (Pillow names the whole path; the report needs the file's name)."""
    path = str(source)
    message = str(error).replace(path, Path(path).name)
    return f"{type(error).__name__}: {message}"


def convert(task: Task) -> Outcome:
    """THE WORKER: turn one input into a JPEG thumbnail in ``task.out_dir``, written safely
    (``save_atomically``), and return an ``Outcome``.

    A bad input (unreadable, truncated, not an image, too large) is not an error of the run:
    the exception is caught and returned as the outcome's ``reason``, so that one bad file
    never stops the batch and every failure reaches the report. Only ``Exception`` is
    caught: ``KeyboardInterrupt`` and ``SystemExit`` still stop the worker.
    """
    name = Path(task.source).name
    try:
        thumbnail = make_thumbnail(task.source, task.side)
        output = output_name(task.source)
        save_atomically(thumbnail, Path(task.out_dir, output), quality=task.quality)
    except Exception as error:  # a bad input is reported, never raised
        return Outcome(name, False, reason=reason_for(error, task.source))
    return Outcome(name, True, output, thumbnail.size)


def convert_or_raise(task: Task) -> str:
    """The naive worker: the same work as ``convert``, but a bad input raises (and the
    output is written straight to its final name). Returns the output's name."""
    thumbnail = make_thumbnail(task.source, task.side)
    output = output_name(task.source)
    save_directly(thumbnail, Path(task.out_dir, output), quality=task.quality)
    return output


def load_pillow() -> None:
    """Pool initializer: import Pillow and register its file formats in this worker, so
    that the first timed task does not pay for it."""
    from PIL import Image

    Image.init()


# --- 3. Writing safely -------------------------------------------------------------------------


Wrap = Callable[[BinaryIO], BinaryIO]
"""Something that wraps the open output file (``FailingWriter`` in the demos)."""


def part_name(dest: str | os.PathLike[str]) -> Path:
    """A fresh temporary name beside ``dest``: ``.<name>.<8 hex digits>.part`` (hidden,
    unique per call, so that two workers never share one; in the same folder, so that
    ``os.replace`` is a rename within one file system)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}{PART_SUFFIX}")


def save_directly(image: Any, dest: str | os.PathLike[str], *, quality: int = QUALITY,
                  wrap: Wrap | None = None) -> None:
    """Save ``image`` as a JPEG straight to ``dest``. A failure half-way leaves a
    half-written ``dest`` (and an old ``dest`` is already gone: ``"wb"`` truncated it)."""
    with open(dest, "wb") as file:
        image.save(wrap(file) if wrap else file, format="JPEG", quality=quality)


def save_atomically(image: Any, dest: str | os.PathLike[str], *, quality: int = QUALITY,
                    wrap: Wrap | None = None, durable: bool = False) -> None:
    """Save ``image`` as a JPEG to a temporary name beside ``dest``, then rename it to
    ``dest`` with ``os.replace``.

    ``os.replace`` is atomic on POSIX and Windows within one file system: a reader (or the
    next run) sees the old ``dest`` or the complete new one, never a part. If saving
    raises, the temporary file is removed and the exception goes on; if the process is
    killed, the temporary file stays (nothing runs in a killed process) and ``sweep_parts``
    removes it later. ``durable=True`` also ``fsync``s the file before the rename (and the
    folder after it, where the platform allows), so that the file survives a power cut too,
    at the price of waiting for the disk.
    """
    dest = Path(dest)
    part = part_name(dest)
    try:
        with open(part, "xb") as file:  # "x": never reuse an existing file
            image.save(wrap(file) if wrap else file, format="JPEG", quality=quality)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    if durable and hasattr(os, "O_DIRECTORY"):
        folder = os.open(dest.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


class FailingWriter(io.RawIOBase):
    """A file wrapper that lets ``after`` bytes through to ``file`` and then fails the way
    ``how`` says: ``"raise"`` raises ``OSError(ENOSPC)``, as a full disk does; ``"kill"``
    flushes what was written and kills this process with SIGKILL (as the OOM killer or
    ``kill -9`` would): no ``except`` or ``finally`` runs after that.

    It has no ``fileno()``, so Pillow writes the encoded image through ``write`` in pieces
    instead of handing the file descriptor to its C encoder.
    """

    def __init__(self, file: BinaryIO, after: int, how: str = "raise") -> None:
        if how not in ("raise", "kill"):
            raise ValueError(f"how must be 'raise' or 'kill', not {how!r}")
        super().__init__()
        self.file, self.left, self.how = file, after, how

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        if len(data) <= self.left:
            self.left -= len(data)
            return self.file.write(data)
        self.file.write(data[: self.left])
        self.left = 0
        self.file.flush()
        if self.how == "kill":
            os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
            time.sleep(60)  # (never reached where SIGKILL exists)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def encoded_size(image: Any, quality: int = QUALITY) -> int:
    """How many bytes ``image`` takes as a JPEG of ``quality`` (encoded in memory)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return len(buffer.getvalue())


def crash_while_writing(task: Task, safe: bool, how: str, after: int | None = None) -> str:
    """``Process`` target for the demo: make the thumbnail of ``task`` and write it
    (``save_atomically`` if ``safe``, else ``save_directly``) through a ``FailingWriter``
    that fails after ``after`` bytes (default: half of the file) the way ``how`` says.
    Raises (``"raise"``) or never returns (``"kill"``); returns the output's name if the
    write completes (only when ``after`` is at least the file's size)."""
    thumbnail = make_thumbnail(task.source, task.side)
    dest = Path(task.out_dir, output_name(task.source))
    if after is None:
        after = encoded_size(thumbnail, task.quality) // 2

    def wrap(file: BinaryIO) -> BinaryIO:
        return FailingWriter(file, after, how)  # type: ignore[return-value]

    if safe:
        save_atomically(thumbnail, dest, quality=task.quality, wrap=wrap)
    else:
        save_directly(thumbnail, dest, quality=task.quality, wrap=wrap)
    return dest.name


def file_state(path: str | os.PathLike[str]) -> str:
    """What a reader finds at ``path``: ``"missing"``, or ``"complete JPEG WxH"`` when the
    whole image decodes, or ``"BROKEN (N bytes): ExceptionType: message"``."""
    from PIL import Image

    path = Path(path)
    if not path.exists():
        return "missing"
    try:
        with Image.open(path) as image:
            image.load()
            return f"complete {image.format} {image.width}x{image.height}"
    except Exception as error:  # noqa: BLE001  (describing, not converting)
        return f"BROKEN ({path.stat().st_size} bytes): {reason_for(error, path)}"


def leftover_parts(folder: str | os.PathLike[str]) -> list[str]:
    """The temporary files of ``save_atomically`` in ``folder``, by name."""
    return sorted(p.name for p in Path(folder).glob(f".*{PART_SUFFIX}"))


def sweep_parts(folder: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files that killed writers left in ``folder``; return their
    names. Run it before a batch starts (never while one runs: a live worker's temporary
    file looks the same)."""
    removed = leftover_parts(folder)
    for name in removed:
        with contextlib.suppress(FileNotFoundError):
            Path(folder, name).unlink()
    return removed


# --- 4. Reports and verification ---------------------------------------------------------------


def report(outcomes: Iterable[Outcome]) -> list[str]:
    """The run's report: a summary line, then one line per failed input, by name."""
    outcomes = list(outcomes)
    failed = sorted((o for o in outcomes if not o.ok), key=lambda o: o.name)
    lines = [f"{len(outcomes)} inputs: {len(outcomes) - len(failed)} written, "
             f"{len(failed)} failed"]
    lines += [f"  {o.name}: {o.reason}" for o in failed]
    return lines


@dataclass
class Verification:
    """What ``verify_outputs`` found: the counts, and every problem in words."""

    inputs: int
    good: int
    bad: int
    outputs: int
    parts: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def lines(self) -> list[str]:
        """The verification as text, for the notebook to print."""
        adds_up = self.good + self.bad == self.inputs
        return [
            f"inputs {self.inputs} = written {self.good} + failed {self.bad}: {adds_up}",
            f"files in the output folder: {self.outputs}, one per written input: "
            f"{self.outputs == self.good}",
            f"temporary files left: {self.parts}",
            f"problems: {len(self.problems)}" + "".join(f"\n  {p}" for p in self.problems),
        ]


def verify_outputs(out_dir: str | os.PathLike[str], specs: Sequence[Spec],
                   outcomes: Iterable[Outcome], side: int = THUMB_SIDE) -> Verification:
    """Check a finished run against the plan of its inputs.

    * every input has exactly one outcome, and the failed ones are exactly the broken
      files of the plan (``specs``);
    * the output folder holds one file per good input and nothing else (no temporary file);
    * every output opens (``Image.verify``, then reopened and fully decoded with ``load``:
      ``verify`` checks a PNG's chunks but decodes nothing) and is a JPEG of the size that
      ``thumbnail_size`` gives for the input's planned size.
    """
    from PIL import Image

    outcomes = list(outcomes)
    problems: list[str] = []
    by_name = Counter(o.name for o in outcomes)
    expected_names = {s.name for s in specs}
    if set(by_name) != expected_names or any(n > 1 for n in by_name.values()):
        missing = sorted(expected_names - set(by_name))
        twice = sorted(n for n, k in by_name.items() if k > 1)
        problems.append(f"outcomes do not match the inputs: missing {missing}, twice {twice}")
    failed = {o.name for o in outcomes if not o.ok}
    broken = {s.name for s in specs if not s.good}
    if failed != broken:
        problems.append(f"failed {sorted(failed)} but the broken files are {sorted(broken)}")
    good_specs = [s for s in specs if s.good]
    files = sorted(p.name for p in Path(out_dir).iterdir())
    parts = leftover_parts(out_dir)
    expected_files = {output_name(s.name): s for s in good_specs}
    extra = sorted(set(files) - set(expected_files) - set(parts))
    if extra:
        problems.append(f"unexpected files in the output folder: {extra}")
    if parts:
        problems.append(f"temporary files left: {parts}")
    for name, spec in sorted(expected_files.items()):
        path = Path(out_dir, name)
        if not path.exists():
            problems.append(f"{name}: missing")
            continue
        try:
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                image.load()
                if image.format != "JPEG":
                    problems.append(f"{name}: {image.format}, not JPEG")
                if image.size != thumbnail_size(spec.size, side):
                    problems.append(f"{name}: {image.size}, expected "
                                    f"{thumbnail_size(spec.size, side)}")
        except Exception as error:  # noqa: BLE001  (a problem to report)
            problems.append(f"{name}: {reason_for(error, path)}")
    outputs = len([f for f in files if f not in parts])
    good = sum(o.ok for o in outcomes)
    return Verification(len(specs), good, len(outcomes) - good, outputs, len(parts), problems)


def same_files(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """Whether two folders hold the same file names with byte-identical contents."""
    names = sorted(p.name for p in Path(first).iterdir())
    if names != sorted(p.name for p in Path(second).iterdir()):
        return False
    return all(Path(first, n).read_bytes() == Path(second, n).read_bytes() for n in names)


def clear_folder(folder: str | os.PathLike[str]) -> None:
    """Remove every file in ``folder`` (not the folder), to start a run afresh."""
    for path in Path(folder).iterdir():
        if path.is_file():
            path.unlink()


# --- 5. The article's version --------------------------------------------------------------------


def long_time_task(name: int, scale: float = 0.1, seed: int = SEED) -> tuple[int, float]:
    """Article 004's "image compression" task, in Python 3 and returning instead of
    printing: sleep ``random() * 3 * scale`` seconds (the article sleeps up to 3 s; the
    course scales it down) and return ``(name, seconds slept)``. It touches no image: a
    sleep waits without using a core."""
    rng = random.Random(seed * 1000 + name)
    seconds = rng.random() * 3 * scale
    time.sleep(seconds)
    return name, seconds


def first_of(outcomes: Iterable[Outcome], ok: bool) -> Outcome:
    """The first outcome, by name, that is ``ok`` (or not)."""
    return min((o for o in outcomes if o.ok == ok), key=lambda o: o.name)
