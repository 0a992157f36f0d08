"""Import IAM-OnDB as its owners distribute it into a line set (see :mod:`inkcore.data`).

Input
    ``lineStrokes``: one XML file per text line, ``lineStrokes/a01/a01-000/a01-000u-01.xml``,
    given as that folder (or any folder above it) or as ``lineStrokes-all.tar.gz``,
    which is read as a stream and never unpacked to disk. A line file holds
    ``StrokeSet/Stroke/Point`` elements with integer ``x``, ``y`` in whiteboard units
    (y grows downward) and ``time`` in seconds with two decimals.

    ``ascii`` (optional): one transcription per form, ``ascii/a01/a01-000/a01-000u.txt``,
    as a folder or ``ascii-all.tar.gz``. The line texts are the non-blank lines after
    ``CSR:``; line ``a01-000u-03`` is the third of them. When not given, an ``ascii``
    folder or ``ascii-all.tar.gz`` beside the line strokes is used if there is one.

Conversion, identical to the reference line set built from the same files
    points: every ``Point`` in file order, ``(x, y, 1)`` on a stroke's last point and
    ``(x, y, 0)`` elsewhere; no resampling, no cleaning. Strokes without points are
    dropped. ``t_ms``: ``round(time * 1000)`` minus the same for the line's first point.
    Lines are stored sorted by line id, so a folder and its archive give equal sets.

Splits
    By form (``a01-000u``), so one writer's form never lands on two sides. The split of
    the reference set could not be derived from any rule (it is neither IAM-OnDB's
    official task lists, which are writer-independent, nor a common hash of the form id),
    so, in this order:

    1. ``reference``: a line set ``.npz`` or a text file of ``<form or line id> <split>``
       rows; its split (and, for a line set, its ``article_index``) is copied by id;
    2. forms that hold one of the article's validation lines (``article_dir``) are ``val``,
       as in the reference set, so a model trained on the import never sees them;
    3. otherwise :func:`split_for_form`: the first 8 bytes of SHA-256 of the form id, read
       as a fraction u of 2**64: ``test`` if u < 0.04, ``val`` if u < 0.16, else ``train``
       (about 84 / 12 / 4 %, the proportions of the reference set's forms).

article_index
    -1 unless ``article_dir`` holds the article's ``validation-data/k.json`` files: a
    line whose pen offsets equal file k's (after the article's clip of +-1000 units) gets k.

Safety
    The line files are parsed with expat, the parser ElementTree is built on, used
    directly so that the parser itself stops at a ``<!DOCTYPE`` or an entity declaration
    before anything is expanded; such files are skipped as damaged, as are files that
    are not well-formed, have no points, or hold values out of range. Skipped files are
    counted and the first few named in the :class:`ImportReport`.
"""
from __future__ import annotations

import hashlib
import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple
from xml.parsers import expat

import numpy as np

from inkcore.data import DataError, LineSet, read_stroke_json, save_lines

SPLITS = ("train", "val", "test")
#: Upper bounds of the hash fraction for ``test`` and ``val`` (see the module docstring).
TEST_FRACTION = 0.04
VAL_FRACTION = 0.12

#: The article's validation files clip pen offsets to this many whiteboard units.
ARTICLE_OFFSET_CLIP = 1000

#: Line files larger than this are refused unread (the longest line is about 100 kB).
MAX_LINE_XML_BYTES = 16 * 2**20
#: Transcription files larger than this are refused (a form's is about 1 kB).
MAX_ASCII_BYTES = 2**20

#: How many skipped files the report names.
REPORTED_SKIPS = 10

EXPECTED_LAYOUT = (
    "expected IAM-OnDB's lineStrokes folder (lineStrokes/a01/a01-000/a01-000u-01.xml) "
    "or its lineStrokes-all.tar.gz"
)
LINE_ID = re.compile(r"^(?P<form>[A-Za-z0-9]+-[A-Za-z0-9]+)-(?P<number>\d+)$")

Progress = Callable[[int, "int | None"], None]


class LineInk(NamedTuple):
    points: np.ndarray  # (P, 3) int16: x, y, 1 on a stroke's last point
    t_ms: np.ndarray  # (P,) int32: ms since the first point


class SkippedFile(NamedTuple):
    name: str
    reason: str


@dataclass
class ImportReport:
    out: Path
    lines: int = 0
    files_seen: int = 0
    skipped: int = 0
    skipped_files: list[SkippedFile] = field(default_factory=list)
    without_text: int = 0
    transcriptions: str | None = None
    splits: dict[str, int] = field(default_factory=dict)
    split_rule: str = ""
    article_lines: int = 0

    def skip(self, name: str, reason: str) -> None:
        self.skipped += 1
        if len(self.skipped_files) < REPORTED_SKIPS:
            self.skipped_files.append(SkippedFile(name, reason))

    def summary(self) -> str:
        split_text = ", ".join(f"{self.splits.get(s, 0)} {s}" for s in SPLITS)
        parts = [
            f"imported {self.lines} lines from {self.files_seen} files into {self.out}",
            f"splits: {split_text} ({self.split_rule})",
            f"transcriptions: {self.transcriptions or 'none found'}; "
            f"{self.without_text} lines without one",
        ]
        if self.article_lines:
            parts.append(f"article validation lines found: {self.article_lines}")
        if self.skipped:
            parts.append(f"skipped {self.skipped} damaged files:")
            parts += [f"  {name}: {reason}" for name, reason in self.skipped_files]
            if self.skipped > len(self.skipped_files):
                parts.append(f"  ... and {self.skipped - len(self.skipped_files)} more")
        return "\n".join(parts)


# --- one line file -------------------------------------------------------------------


def read_line_xml(source: bytes | str | os.PathLike) -> np.ndarray:
    """The points (P, 3) int16 of one ``lineStrokes`` XML file (bytes or a path)."""
    return read_line_ink(source).points


def read_line_ink(source: bytes | str | os.PathLike) -> LineInk:
    """Points and times of one ``lineStrokes`` XML file; DataError says why it is unusable."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = _read_bounded(Path(source), MAX_LINE_XML_BYTES)
    if len(data) > MAX_LINE_XML_BYTES:
        raise DataError(f"larger than {MAX_LINE_XML_BYTES // 2**20} MB")
    xs, ys, times, pen = _parse_strokes(data)
    if not xs:
        raise DataError("holds no points")
    try:
        x = np.array(xs).astype(np.int64)
        y = np.array(ys).astype(np.int64)
        seconds = np.array(times).astype(np.float64)
    except (ValueError, OverflowError):
        raise DataError("a point has a non-integer x or y, or a non-numeric time") from None
    info = np.iinfo(np.int16)
    if min(x.min(), y.min()) < info.min or max(x.max(), y.max()) > info.max:
        raise DataError("a coordinate is out of range")
    if not np.isfinite(seconds).all():
        raise DataError("a point has an invalid time")
    ms = np.round(seconds * 1000.0)
    t_ms = ms - ms[0]
    if np.abs(t_ms).max() > np.iinfo(np.int32).max:
        raise DataError("times out of range")
    points = np.column_stack([x, y, np.array(pen, dtype=np.int64)]).astype(np.int16)
    return LineInk(points, t_ms.astype(np.int32))


def _parse_strokes(data: bytes) -> tuple[list[str], list[str], list[str], list[int]]:
    xs: list[str] = []
    ys: list[str] = []
    times: list[str] = []
    pen: list[int] = []
    stroke_start: list[int] = []  # index of the current stroke's first point

    def start(tag, attrs):
        if tag == "Point" and stroke_start:
            try:
                xs.append(attrs["x"])
                ys.append(attrs["y"])
                times.append(attrs["time"])
            except KeyError as missing:
                raise DataError(f"a point has no {missing.args[0]!r} attribute") from None
            pen.append(0)
        elif tag == "Stroke":
            stroke_start.append(len(xs))

    def end(tag):
        if tag == "Stroke" and stroke_start:
            if len(xs) > stroke_start.pop():
                pen[-1] = 1  # the pen lifts after the stroke's last point

    def refuse_doctype(*_):
        raise DataError("declares a DOCTYPE, which line files never do (refused)")

    def refuse_entity(*_):
        raise DataError("declares an entity, which line files never do (refused)")

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise DataError(f"not well-formed XML ({error})") from None
    return xs, ys, times, pen


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise DataError(f"larger than {limit // 2**20} MB")
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"cannot be read ({error.strerror})") from None


# --- splits -------------------------------------------------------------------------


def split_for_form(form_id: str) -> str:
    """The split of a form by the hash rule (module docstring), the same on every machine."""
    digest = hashlib.sha256(form_id.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < TEST_FRACTION:
        return "test"
    if u < TEST_FRACTION + VAL_FRACTION:
        return "val"
    return "train"


class _Reference(NamedTuple):
    split: dict[str, str]  # form or line id -> split
    article_index: dict[str, int]  # line id -> k


def read_reference(path: str | os.PathLike) -> _Reference:
    """Splits to copy: a line set .npz (splits and article indices) or ``<id> <split>`` rows."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such reference split file")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as archive:
                ids = [str(i) for i in archive["line_ids"]]
                splits = [str(s) for s in archive["split"]]
                article = archive["article_index"] if "article_index" in archive.files else None
        except (KeyError, OSError, ValueError, EOFError, zlib.error) as error:
            raise DataError(f"{path}: not a line set with line_ids and split ({error})") from None
        if len(splits) != len(ids) or (article is not None and len(article) != len(ids)):
            raise DataError(f"{path}: line_ids, split and article_index differ in length")
        index = {} if article is None else {i: int(k) for i, k in zip(ids, article) if k >= 0}
        table = dict(zip(ids, splits))
    else:
        table, index = {}, {}
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataError(f"{path}: cannot be read ({error})") from None
        for number, row in enumerate(text.splitlines(), 1):
            words = row.split()
            if not words or words[0].startswith("#"):
                continue
            if len(words) != 2:
                raise DataError(f"{path}, line {number}: expected '<form or line id> <split>'")
            table[words[0]] = words[1]
    unknown = sorted(set(table.values()) - set(SPLITS))
    if unknown:
        raise DataError(f"{path}: unknown split names {unknown}; expected {', '.join(SPLITS)}")
    return _Reference(table, index)


# --- the article's validation lines --------------------------------------------------


def _offset_signature(rows: np.ndarray) -> bytes:
    """A digest of offset rows (dx, dy, pen) as the article's files store them."""
    rows = np.asarray(rows, dtype=np.int64).copy()
    np.clip(rows[:, :2], -ARTICLE_OFFSET_CLIP, ARTICLE_OFFSET_CLIP, out=rows[:, :2])
    return hashlib.sha256(rows.astype("<i4").tobytes()).digest()


def _line_signature(points: np.ndarray) -> bytes:
    points = points.astype(np.int64)
    rows = np.column_stack([np.diff(points[:, :2], axis=0), points[1:, 2]])
    return _offset_signature(rows)


def read_article_signatures(folder: str | os.PathLike) -> dict[bytes, int]:
    """Signatures of the article's ``validation-data/k.json`` files, mapped to k."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder of the article's validation-data files")
    signatures = {}
    for file in sorted(folder.glob("*.json")):
        if not file.stem.isdigit():
            continue
        rows = np.asarray(read_stroke_json(file), dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != 3 or len(rows) < 2 or (rows != np.round(rows)).any():
            raise DataError(f"{file}: not an article validation file (integer [dx, dy, pen] rows)")
        signatures[_offset_signature(rows[1:])] = int(file.stem)
    if not signatures:
        raise DataError(f"{folder}: holds no validation-data files (0.json, 1.json, ...)")
    return signatures


# --- reading the distribution --------------------------------------------------------


def _is_archive(path: Path) -> bool:
    return path.is_file() and path.name.endswith((".tar.gz", ".tgz", ".tar"))


def _folder_members(folder: Path, suffix: str) -> list[Path]:
    return sorted((p for p in folder.rglob(f"*{suffix}") if p.is_file()), key=lambda p: p.name)


def _archive_members(path: Path, suffix: str, limit: int) -> Iterator[tuple[str, bytes | DataError]]:
    """(name, bytes) of the archive's files ending in ``suffix``, read as a stream."""
    count = 0
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                if not member.isfile() or not member.name.endswith(suffix):
                    continue
                count += 1
                name = member.name.rsplit("/", 1)[-1]
                if member.size > limit:
                    yield name, DataError(f"larger than {limit // 2**20} MB")
                    continue
                handle = archive.extractfile(member)
                yield name, handle.read() if handle else DataError("cannot be read")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        where = f"after {count} files" if count else "at its start"
        raise DataError(
            f"{path}: damaged or truncated archive ({where}: {error}); "
            "download it again"
        ) from None


def _csr_lines(text: str) -> list[str] | None:
    """The non-blank lines after ``CSR:``, or None when the file has no CSR section."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "CSR:":
            return [t.strip() for t in lines[i + 1 :] if t.strip()]
    return None


def read_transcriptions(source: str | os.PathLike) -> dict[str, list[str]]:
    """Form id -> its CSR text lines, from an ``ascii`` folder or ``ascii-all.tar.gz``."""
    source = Path(source)
    if _is_archive(source):
        members = _archive_members(source, ".txt", MAX_ASCII_BYTES)
    elif source.is_dir():
        members = ((p.name, _bytes_or_error(p, MAX_ASCII_BYTES)) for p in _folder_members(source, ".txt"))
    else:
        raise DataError(
            f"{source}: no such folder or archive; expected IAM-OnDB's ascii folder "
            "(ascii/a01/a01-000/a01-000u.txt) or its ascii-all.tar.gz"
        )
    forms = {}
    for name, data in members:
        if isinstance(data, DataError):
            continue
        lines = _csr_lines(data.decode("latin-1"))
        if lines is not None:
            forms[name[: -len(".txt")]] = lines
    if not forms:
        raise DataError(f"{source}: holds no transcription files with a CSR: section")
    return forms


def _bytes_or_error(path: Path, limit: int) -> bytes | DataError:
    try:
        return _read_bounded(path, limit)
    except DataError as error:
        return error


def _find_transcriptions(source: Path) -> Path | None:
    """An ``ascii`` folder or archive beside (or, for a folder, inside) the line strokes."""
    folders = [source.parent] if source.is_file() else [source, source.parent]
    for folder in folders:
        for candidate in (folder / "ascii", folder / "ascii-all.tar.gz"):
            if candidate.exists():
                return candidate
    return None


def _line_files(source: Path) -> tuple[Iterator[tuple[str, bytes | DataError]], int | None]:
    if _is_archive(source):
        return _archive_members(source, ".xml", MAX_LINE_XML_BYTES), None
    if source.is_file():
        raise DataError(f"{source}: neither a folder nor a .tar.gz archive; {EXPECTED_LAYOUT}")
    if not source.is_dir():
        raise DataError(f"{source}: no such folder or archive; {EXPECTED_LAYOUT}")
    files = _folder_members(source, ".xml")
    if not files:
        raise DataError(f"{source}: holds no .xml line files; {EXPECTED_LAYOUT}")
    return ((p.name, _bytes_or_error(p, MAX_LINE_XML_BYTES)) for p in files), len(files)


# --- the import ----------------------------------------------------------------------


def import_iam(
    source: str | os.PathLike,
    out: str | os.PathLike,
    ascii_dir: str | os.PathLike | None = None,
    progress: Progress | None = None,
    *,
    reference: str | os.PathLike | None = None,
    article_dir: str | os.PathLike | None = None,
) -> ImportReport:
    """Build a line set at ``out`` from IAM-OnDB's files (module docstring) and report.

    ``source``: the ``lineStrokes`` folder or archive; ``ascii_dir``: the transcriptions
    (folder or archive), found beside ``source`` when None; ``reference``: splits to copy
    (a line set .npz or ``<id> <split>`` rows); ``article_dir``: the article's
    ``validation-data`` folder, to find its lines (e.g. :func:`inkcore.downloads.fetch_validation`).
    ``progress(files_done, files_total)`` is called after every line file;
    ``files_total`` is None for an archive, which is read as a stream.
    Raises DataError when nothing usable is found; damaged files are only reported.
    """
    source, out = Path(source), Path(out)
    report = ImportReport(out=out)
    files, total = _line_files(source)
    ascii_path = Path(ascii_dir) if ascii_dir is not None else _find_transcriptions(source)
    transcriptions = read_transcriptions(ascii_path) if ascii_path is not None else {}
    report.transcriptions = str(ascii_path) if ascii_path is not None else None
    ref = read_reference(reference) if reference is not None else None
    article = read_article_signatures(article_dir) if article_dir is not None else {}

    lines = _read_lines(source, files, total, report, progress)
    line_ids = sorted(lines)
    forms = [LINE_ID.match(i)["form"] for i in line_ids]
    texts = _line_texts(line_ids, forms, transcriptions)
    report.without_text = sum(1 for t in texts if not t)
    article_index = _article_indices(line_ids, lines, ref, article)
    report.article_lines = int((article_index >= 0).sum())
    split, report.split_rule = _assign_splits(line_ids, forms, article_index, ref)
    report.splits = {s: int((split == s).sum()) for s in SPLITS}
    report.lines = len(line_ids)
    save_lines(out, _line_set([lines[i] for i in line_ids], line_ids, texts, split, article_index))
    return report


def _read_lines(source: Path, files, total: int | None, report: ImportReport,
                progress: Progress | None) -> dict[str, LineInk]:
    """Every readable line file's ink by its line id; the others go into ``report`` as skipped."""
    lines: dict[str, LineInk] = {}
    for name, data in files:
        report.files_seen += 1
        stem = name[: -len(".xml")]
        try:
            if isinstance(data, DataError):
                raise data
            if not LINE_ID.match(stem):
                raise DataError("the name is not an IAM line id (form-line.xml)")
            if stem in lines:
                raise DataError("a second file with the same line id")
            lines[stem] = read_line_ink(data)
        except DataError as error:
            report.skip(name, str(error))
        if progress is not None:
            progress(report.files_seen, total)
    if report.files_seen == 0:
        raise DataError(f"{source}: holds no .xml line files; {EXPECTED_LAYOUT}")
    if not lines:
        raise DataError(
            f"{source}: no line could be read ({report.skipped} of {report.files_seen} files "
            f"damaged; first: {report.skipped_files[0].reason if report.skipped_files else '-'})"
        )
    return lines


def _line_texts(line_ids: list[str], forms: list[str], transcriptions: dict[str, list[str]]) -> list[str]:
    """Each line's transcription: line k of its form's CSR text, '' where there is none."""
    texts = []
    for line_id, form in zip(line_ids, forms):
        csr = transcriptions.get(form, [])
        number = int(LINE_ID.match(line_id)["number"])
        texts.append(csr[number - 1] if 0 < number <= len(csr) else "")
    return texts


def _article_indices(line_ids: list[str], lines: dict[str, LineInk], ref: _Reference | None,
                     article: dict[bytes, int]) -> np.ndarray:
    """Each line's number among the article's validation lines (-1 for none): from the
    reference where it names the line, else found by the line's points among the article's."""
    article_index = np.full(len(line_ids), -1, dtype=np.int32)
    for i, line_id in enumerate(line_ids):
        if ref is not None and line_id in ref.article_index:
            article_index[i] = ref.article_index[line_id]
        elif article:
            article_index[i] = article.get(_line_signature(lines[line_id].points), -1)
    return article_index


def _line_set(inks: list[LineInk], line_ids: list[str], texts: list[str], split: np.ndarray,
              article_index: np.ndarray) -> LineSet:
    """The lines' ink back to back, with what is known of each line."""
    starts = np.zeros(len(inks) + 1, dtype=np.int64)
    np.cumsum([len(ink.points) for ink in inks], out=starts[1:])
    return LineSet(
        points=np.concatenate([ink.points for ink in inks]),
        t_ms=np.concatenate([ink.t_ms for ink in inks]),
        starts=starts,
        line_ids=np.array(line_ids, dtype=str),
        texts=np.array(texts, dtype=str),
        split=split,
        article_index=article_index,
    )


def _assign_splits(line_ids, forms, article_index, ref) -> tuple[np.ndarray, str]:
    article_forms = {f for f, k in zip(forms, article_index) if k >= 0}
    split = []
    counts = {"reference": 0, "article": 0, "hash": 0}
    for line_id, form in zip(line_ids, forms):
        if ref is not None and (line_id in ref.split or form in ref.split):
            split.append(ref.split.get(line_id, ref.split.get(form)))
            counts["reference"] += 1
        elif form in article_forms:
            split.append("val")
            counts["article"] += 1
        else:
            split.append(split_for_form(form))
            counts["hash"] += 1
    rules = {
        "reference": "from the reference",
        "article": "val as forms of the article's validation lines",
        "hash": "by the hash of the form id",
    }
    rule = "; ".join(f"{n} lines {rules[k]}" for k, n in counts.items() if n)
    return np.array(split, dtype="<U5"), rule
