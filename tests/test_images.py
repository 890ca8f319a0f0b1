"""helpers.images: the image batch of notebook 14, its safe write and its checks.

Every assertion is a relation that holds on any machine, idle or loaded: the same plan and
bytes from the same seed, every input accounted for, outputs that decode at the planned
size, nothing half-written left behind; never a speed. Pool tests run under each start
method (the ``mp_context`` fixture).
"""

from __future__ import annotations

import errno
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, UnidentifiedImageError

import helpers  # noqa: F401  (installs the guard)
from helpers import images, practice

COUNT, BAD = 30, 5


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[images.Spec]]:
    """A small input folder (30 files, one of each defect) shared by this module's tests."""
    path = tmp_path_factory.mktemp("input")
    return path, images.make_inputs(path, count=COUNT, bad=BAD)


def good_spec(specs: list[images.Spec], mode: str | None = None) -> images.Spec:
    return next(s for s in specs if s.good and (mode is None or s.mode == mode))


def spec_with(specs: list[images.Spec], defect: str) -> images.Spec:
    return next(s for s in specs if s.defect == defect)


# --- the input folder ----------------------------------------------------------------------------


def test_plan_is_deterministic_and_well_formed() -> None:
    plan = images.plan_inputs(250, 5)
    assert plan == images.plan_inputs(250, 5)
    assert plan != images.plan_inputs(250, 5, seed=images.SEED + 1)
    assert len(plan) == 250
    assert sorted(s.defect for s in plan if not s.good) == sorted(images.DEFECTS)
    assert plan[0].good
    stems = [Path(s.name).stem for s in plan]
    assert len(set(stems)) == len(stems), "two inputs would write the same output"
    assert all(images.MIN_SIDE <= side <= images.MAX_SIDE for s in plan for side in s.size)
    assert {s.format for s in plan if s.good} == set(images.formats_available())


@pytest.mark.parametrize("count, bad", [(1, 0), (3, 3), (7, 5), (40, 0)])
def test_plan_counts_hold_for_any_size(count: int, bad: int) -> None:
    plan = images.plan_inputs(count, bad)
    assert len(plan) == count and sum(not s.good for s in plan) == bad


def test_plan_rejects_more_bad_files_than_files() -> None:
    with pytest.raises(ValueError):
        images.plan_inputs(3, 4)


def test_written_bytes_are_deterministic(tmp_path: Path,
                                         folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    for spec in specs[:8] + [s for s in specs if not s.good]:
        images.write_input(spec, tmp_path)
        assert (tmp_path / spec.name).read_bytes() == (path / spec.name).read_bytes(), spec.name


def test_good_inputs_open_as_planned(folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    for spec in (s for s in specs if s.good):
        with Image.open(path / spec.name) as image:
            image.load()
            assert (image.format, image.mode, image.size) == (spec.format, spec.mode, spec.size)


def test_describe_inputs_counts_the_folder(folder: tuple[Path, list[images.Spec]]) -> None:
    path, _ = folder
    lines = images.describe_inputs(path)
    assert lines[0].startswith(f"{COUNT} files")
    # The empty file, the HTML page and the bomb do not open; truncated and corrupt do.
    assert lines[-1].endswith("files Pillow cannot open: 3")


def test_jpeg_bytes_for_display() -> None:
    import io

    with Image.open(io.BytesIO(images.jpeg_bytes(Image.new("RGBA", (9, 5))))) as image:
        assert (image.format, image.size, image.mode) == ("JPEG", (9, 5), "RGB")


def test_contact_sheet_has_the_grid_size(folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    sheet = images.contact_sheet([path / s.name for s in specs[:10]], columns=4, cell=32)
    assert sheet.size == (4 * 32, 3 * 32) and sheet.mode == "RGB"


# --- one image --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (64, 64), (160, 10), (639, 65),
                                  (161, 1), (1000, 3), (160, 160), (161, 161)])
def test_thumbnail_size(size: tuple[int, int]) -> None:
    width, height = images.thumbnail_size(size, 160)
    if max(size) <= 160:
        assert (width, height) == size  # never enlarged
        return
    assert max(width, height) == 160 and min(width, height) >= 1
    scale = 160 / max(size)
    for planned, original in ((width, size[0]), (height, size[1])):
        assert planned == 1 or abs(planned - original * scale) <= 0.5  # the aspect, rounded


def test_convert_writes_the_planned_thumbnail(tmp_path: Path,
                                              folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    for spec in (s for s in specs if s.good):
        outcome = images.convert(images.Task(str(path / spec.name), str(tmp_path)))
        assert outcome.ok and outcome.output == images.output_name(spec.name)
        assert outcome.size == images.thumbnail_size(spec.size)
        with Image.open(tmp_path / outcome.output) as image:
            image.load()
            assert image.format == "JPEG" and image.size == outcome.size
            assert image.mode in ("RGB", "L")
    assert images.leftover_parts(tmp_path) == []


def test_flatten_gives_jpeg_modes() -> None:
    for mode in ("RGBA", "LA", "P", "L", "RGB", "CMYK", "I"):
        image = Image.new(mode, (4, 4))
        if mode == "P":
            image.info["transparency"] = 0
        assert images._flatten(image).mode in ("RGB", "L")


EXPECTED_ERRORS = {
    "truncated": OSError,
    "empty": UnidentifiedImageError,
    "html": UnidentifiedImageError,
    "corrupt": OSError,
    "bomb": Image.DecompressionBombError,
}


@pytest.mark.parametrize("defect", sorted(images.DEFECTS))
def test_bad_input_is_reported_not_raised(defect: str, tmp_path: Path,
                                          folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    spec = spec_with(specs, defect)
    task = images.Task(str(path / spec.name), str(tmp_path))
    outcome = images.convert(task)
    assert not outcome.ok and outcome.output is None and outcome.name == spec.name
    assert str(path) not in outcome.reason, "the report names files, not the folder"
    with pytest.raises(EXPECTED_ERRORS[defect]) as raised:
        images.convert_or_raise(task)
    assert outcome.reason == images.reason_for(raised.value, task.source)
    assert outcome.reason.startswith(type(raised.value).__name__ + ": ")
    assert list(tmp_path.iterdir()) == []


def test_report_lists_failures_by_name() -> None:
    outcomes = [images.Outcome("b.png", False, reason="OSError: x"),
                images.Outcome("c.jpg", True, "c.jpg", (1, 1)),
                images.Outcome("a.jpg", False, reason="UnidentifiedImageError: y")]
    assert images.report(outcomes) == ["3 inputs: 1 written, 2 failed",
                                       "  a.jpg: UnidentifiedImageError: y",
                                       "  b.png: OSError: x"]


# --- writing safely ---------------------------------------------------------------------------


@pytest.fixture
def thumbnail(folder: tuple[Path, list[images.Spec]]) -> Image.Image:
    path, specs = folder
    return images.make_thumbnail(path / good_spec(specs, "RGB").name)


def test_save_atomically_leaves_only_the_result(tmp_path: Path, thumbnail: Image.Image) -> None:
    dest = tmp_path / "out.jpg"
    images.save_atomically(thumbnail, dest)
    images.save_atomically(thumbnail, dest, durable=True)  # over an existing file
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]
    assert images.file_state(dest) == f"complete JPEG {thumbnail.width}x{thumbnail.height}"


def test_part_names_are_unique_hidden_and_beside(tmp_path: Path) -> None:
    names = {images.part_name(tmp_path / "x.jpg") for _ in range(100)}
    assert len(names) == 100
    assert all(n.parent == tmp_path and n.name.startswith(".x.jpg.")
               and n.name.endswith(images.PART_SUFFIX) for n in names)


def test_a_failed_write_keeps_the_old_file_only_with_os_replace(tmp_path: Path,
                                                                thumbnail: Image.Image) -> None:
    size = images.encoded_size(thumbnail)
    assert size > 200

    def failing(file):
        return images.FailingWriter(file, size // 2, "raise")

    for safe in (True, False):
        dest = tmp_path / f"{safe}.jpg"
        images.save_atomically(thumbnail, dest)
        save = images.save_atomically if safe else images.save_directly
        with pytest.raises(OSError) as raised:
            save(thumbnail, dest, wrap=failing)
        assert raised.value.errno == errno.ENOSPC
        state = images.file_state(dest)
        if safe:
            assert state.startswith("complete JPEG")
        else:
            assert state.startswith(f"BROKEN ({size // 2} bytes)")
    assert images.leftover_parts(tmp_path) == []


def test_failing_writer_passes_what_fits(tmp_path: Path) -> None:
    with open(tmp_path / "f", "wb") as file:
        writer = images.FailingWriter(file, 10)
        assert writer.writable() and writer.write(b"12345") == 5
        with pytest.raises(OSError):
            writer.write(b"6789012345")
    assert (tmp_path / "f").read_bytes() == b"1234567890"
    with pytest.raises(ValueError):
        images.FailingWriter(file, 1, "explode")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
@pytest.mark.parametrize("safe", [True, False])
def test_a_killed_writer(safe: bool, tmp_path: Path, mp_context,
                         folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    spec = good_spec(specs, "RGB")
    task = images.Task(str(path / spec.name), str(tmp_path))
    assert images.convert(task).ok
    dest = tmp_path / images.output_name(spec.name)
    old = dest.read_bytes()
    result = practice.run_with_timeout(images.crash_while_writing, (task, safe, "kill"),
                                       timeout=60, context=mp_context)
    assert result.status == "error" and result.exitcode == -signal.SIGKILL
    if safe:
        assert dest.read_bytes() == old
        assert len(images.leftover_parts(tmp_path)) == 1
        assert images.sweep_parts(tmp_path) and images.leftover_parts(tmp_path) == []
    else:
        assert images.file_state(dest).startswith("BROKEN")
        assert len(dest.read_bytes()) < len(old)
        assert images.leftover_parts(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]


def test_a_raising_writer_in_a_process(tmp_path: Path, mp_context,
                                       folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    task = images.Task(str(path / good_spec(specs).name), str(tmp_path))
    result = practice.run_with_timeout(images.crash_while_writing, (task, True, "raise"),
                                       timeout=60, context=mp_context)
    assert result.status == "error" and result.error.startswith("OSError: [Errno")
    assert list(tmp_path.iterdir()) == []
    # A limit at least the file's size lets the write complete.
    result = practice.run_with_timeout(images.crash_while_writing, (task, True, "raise", 10**9),
                                       timeout=60, context=mp_context)
    assert result.status == "ok"
    assert images.file_state(tmp_path / result.value).startswith("complete JPEG")


def test_file_state_and_sweep(tmp_path: Path) -> None:
    assert images.file_state(tmp_path / "none.jpg") == "missing"
    (tmp_path / "text.jpg").write_text("hello")
    assert images.file_state(tmp_path / "text.jpg").startswith("BROKEN (5 bytes): Unidentified")
    (tmp_path / ".a.jpg.0123abcd.part").write_bytes(b"x")
    assert images.leftover_parts(tmp_path) == [".a.jpg.0123abcd.part"]
    assert images.sweep_parts(tmp_path) == [".a.jpg.0123abcd.part"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.jpg"]


# --- whole runs and their verification ----------------------------------------------------------


def test_serial_threads_and_processes_agree(tmp_path: Path, mp_context,
                                            folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    serial = [images.convert(t) for t in images.tasks_for(path, tmp_path / "serial")]
    with ThreadPoolExecutor(max_workers=2) as executor:
        threaded = list(executor.map(images.convert, images.tasks_for(path, tmp_path / "threads")))
    with mp_context.Pool(2, initializer=images.load_pillow) as pool:
        processed = pool.imap_unordered(images.convert, images.tasks_for(path, tmp_path / "procs"),
                                        chunksize=3)
        processed = list(processed)
        pool.close()
        pool.join()
    assert threaded == serial
    assert sorted(processed, key=lambda o: o.name) == serial
    assert images.same_files(tmp_path / "serial", tmp_path / "threads")
    assert images.same_files(tmp_path / "serial", tmp_path / "procs")
    for name in ("serial", "threads", "procs"):
        check = images.verify_outputs(tmp_path / name, specs, serial)
        assert check.ok, check.problems
        assert (check.inputs, check.good, check.bad, check.outputs, check.parts) == \
            (COUNT, COUNT - BAD, BAD, COUNT - BAD, 0)
        assert all(line.endswith("True") for line in check.lines()[:2])


def test_pool_map_with_a_raising_worker_loses_the_batch(tmp_path: Path, mp_context,
                                                        folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    tasks = images.tasks_for(path, tmp_path)
    reasons = {o.reason for o in map(images.convert, images.tasks_for(path, tmp_path / "ok"))
               if not o.ok}
    with mp_context.Pool(2) as pool:
        with pytest.raises(Exception) as raised:
            pool.map(images.convert_or_raise, tasks, chunksize=4)
        pool.close()
        pool.join()
    assert {images.reason_for(raised.value, t.source) for t in tasks} & reasons
    written = {p.name for p in tmp_path.iterdir() if p.is_file()}
    # The rest of each chunk after its first bad file is never converted.
    expected, skipping = set(), False
    for index, spec in enumerate(specs):
        if index % 4 == 0:
            skipping = False
        if not spec.good:
            skipping = True
        elif not skipping:
            expected.add(images.output_name(spec.name))
    assert written == expected


def test_verify_outputs_finds_each_problem(tmp_path: Path,
                                           folder: tuple[Path, list[images.Spec]]) -> None:
    path, specs = folder
    out = tmp_path / "out"
    outcomes = [images.convert(t) for t in images.tasks_for(path, out)]
    assert images.verify_outputs(out, specs, outcomes).ok
    good = [s for s in specs if s.good]

    # One output missing, one truncated, one of the wrong size, a stray file, a part.
    (out / images.output_name(good[0].name)).unlink()
    truncated = out / images.output_name(good[1].name)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    Image.new("RGB", (7, 7)).save(out / images.output_name(good[2].name), format="JPEG")
    (out / "stray.jpg").write_bytes(b"")
    (out / ".x.jpg.0123abcd.part").write_bytes(b"")
    check = images.verify_outputs(out, specs, outcomes)
    text = "\n".join(check.problems)
    assert not check.ok
    assert f"{images.output_name(good[0].name)}: missing" in text
    assert f"{truncated.name}: OSError: image file is truncated" in text
    assert f"{images.output_name(good[2].name)}: (7, 7), expected" in text
    assert "unexpected files in the output folder: ['stray.jpg']" in text
    assert "temporary files left: ['.x.jpg.0123abcd.part']" in text
    assert check.parts == 1

    # Outcomes that do not match the plan: a bad file reported as written, one missing.
    wrong = [images.Outcome(o.name, True, "x.jpg", (1, 1)) for o in outcomes[1:]]
    check = images.verify_outputs(out, specs, wrong)
    assert any(p.startswith("outcomes do not match the inputs") for p in check.problems)
    assert any(p.startswith("failed [] but the broken files are") for p in check.problems)
    assert check.good + check.bad != check.inputs


def test_same_files_and_clear_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for side in "ab":
        (tmp_path / side / "x").write_bytes(b"1")
    assert images.same_files(tmp_path / "a", tmp_path / "b")
    (tmp_path / "b" / "x").write_bytes(b"2")
    assert not images.same_files(tmp_path / "a", tmp_path / "b")
    images.clear_folder(tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
    assert not images.same_files(tmp_path / "a", tmp_path / "b")


def test_tasks_for_skips_hidden_files_and_makes_the_output_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("b.png", "a.jpg", ".hidden.jpg"):
        (tmp_path / "in" / name).write_bytes(b"")
    tasks = images.tasks_for(tmp_path / "in", tmp_path / "out")
    assert [Path(t.source).name for t in tasks] == ["a.jpg", "b.png"]
    assert (tmp_path / "out").is_dir()
    assert images.output_name("x/y/photo.final.png") == "photo.final.jpg"


# --- the article's version --------------------------------------------------------------------


def test_long_time_task_is_the_articles_sleep_made_repeatable(mp_context) -> None:
    first = images.long_time_task(3, scale=0.01)
    assert first == images.long_time_task(3, scale=0.01)
    assert first[0] == 3 and 0 <= first[1] <= 0.03
    with mp_context.Pool(2) as pool:
        results = sorted(pool.apply_async(images.long_time_task, (i, 0.01)).get(timeout=60)
                         for i in range(4))
    assert results == [images.long_time_task(i, 0.01) for i in range(4)]
