"""The IAM-OnDB importer on the real files of ../shared's sample, checked against lines.npz."""
from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED
from inkcore.data import DataError, load_lines
from inkcore.iamondb import (
    SPLITS,
    import_iam,
    read_line_ink,
    read_line_xml,
    read_transcriptions,
    split_for_form,
)

IAM = SHARED / "data" / "iam-ondb"
SAMPLE = IAM / "sample"
REFERENCE = IAM / "lines.npz"
ARTICLE_VALIDATION = SHARED / "data" / "article" / "validation-data"

#: Lines of the sample that are the article's validation files (from lines.npz).
SAMPLE_ARTICLE_LINES = {"a01-020z-01": 137, "a01-020z-06": 66}

DOCTYPE_XML = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<WhiteboardCaptureSession><StrokeSet><Stroke>
<Point x="1" y="2" time="0.00"/><Point x="&lol2;" y="2" time="0.01"/>
</Stroke></StrokeSet></WhiteboardCaptureSession>
"""

ENTITY_ONLY_XML = b"""<?xml version="1.0"?>
<!DOCTYPE s SYSTEM "file:///etc/passwd">
<WhiteboardCaptureSession><StrokeSet><Stroke><Point x="1" y="2" time="0.00"/></Stroke></StrokeSet>
</WhiteboardCaptureSession>
"""


def require_sample() -> Path:
    if not (SAMPLE / "lineStrokes").is_dir() or not REFERENCE.is_file():
        pytest.skip("../shared/data/iam-ondb (sample/ and lines.npz) is absent: only developers and CI have it")
    return SAMPLE


@pytest.fixture(scope="module")
def reference_rows():
    """lines.npz rows of the sample's lines, by line id (only those rows are read)."""
    sample = require_sample()
    wanted = {p.stem for p in (sample / "lineStrokes").rglob("*.xml")}
    with np.load(REFERENCE, allow_pickle=False) as archive:
        ids = archive["line_ids"]
        starts = archive["starts"]
        points, t_ms = archive["points"], archive["t_ms"]
        texts, split, article = archive["texts"], archive["split"], archive["article_index"]
    rows = {}
    for i in np.flatnonzero(np.isin(ids, sorted(wanted))):
        s, e = starts[i], starts[i + 1]
        rows[str(ids[i])] = dict(points=points[s:e], t_ms=t_ms[s:e], text=str(texts[i]),
                                 split=str(split[i]), article_index=int(article[i]))
    assert len(rows) == len(wanted) == 47
    return rows


@pytest.fixture(scope="module")
def sample_import(tmp_path_factory):
    sample = require_sample()
    out = tmp_path_factory.mktemp("import") / "lines.npz"
    calls = []
    report = import_iam(sample / "lineStrokes", out, ascii_dir=sample / "ascii",
                        progress=lambda done, total: calls.append((done, total)))
    return report, load_lines(out), calls


def test_every_imported_line_equals_the_reference(sample_import, reference_rows):
    report, lines, _ = sample_import
    assert report.lines == len(lines) == len(reference_rows)
    assert report.skipped == 0 and report.without_text == 0
    assert list(lines.line_ids) == sorted(reference_rows)
    for i, line_id in enumerate(lines.line_ids):
        expected = reference_rows[str(line_id)]
        np.testing.assert_array_equal(lines.line_points(i), expected["points"], err_msg=str(line_id))
        np.testing.assert_array_equal(lines.t_ms[lines.starts[i] : lines.starts[i + 1]], expected["t_ms"])
        assert lines.texts[i] == expected["text"]


def test_the_line_set_has_the_reference_schema(sample_import):
    _, lines, _ = sample_import
    assert (lines.points.dtype, lines.t_ms.dtype, lines.starts.dtype, lines.article_index.dtype) == (
        np.int16, np.int32, np.int64, np.int32)
    assert lines.line_ids.dtype.kind == lines.texts.dtype.kind == lines.split.dtype.kind == "U"
    assert lines.points.shape[1] == 3 and lines.starts[-1] == len(lines.points) == len(lines.t_ms)
    assert set(np.unique(lines.points[:, 2])) == {0, 1}
    for i in range(len(lines)):
        assert lines.line_points(i)[-1, 2] == 1  # a line ends with a pen lift
        assert lines.t_ms[lines.starts[i]] == 0
    assert (lines.article_index == -1).all()  # no mapping given


def test_progress_counts_every_file(sample_import):
    _, _, calls = sample_import
    assert calls == [(n, 47) for n in range(1, 48)]


def test_splits_are_by_form_and_reproducible(sample_import):
    report, lines, _ = sample_import
    by_form = {}
    for line_id, split in zip(lines.line_ids, lines.split):
        by_form.setdefault(line_id.rsplit("-", 1)[0], set()).add(str(split))
    assert all(len(s) == 1 for s in by_form.values())
    assert all(by_form[f] == {split_for_form(f)} for f in by_form)
    assert sum(report.splits.values()) == len(lines) and set(report.splits) == set(SPLITS)
    assert "hash" in report.split_rule


def test_the_hash_rule_gives_the_documented_proportions():
    counts = {s: 0 for s in SPLITS}
    for n in range(20_000):
        counts[split_for_form(f"x{n:02d}-{n % 1000:03d}{'abcz'[n % 4]}")] += 1
    assert counts["test"] / 20_000 == pytest.approx(0.04, abs=0.006)
    assert counts["val"] / 20_000 == pytest.approx(0.12, abs=0.01)
    assert split_for_form("a01-000u") == split_for_form("a01-000u")


def test_a_reference_line_set_gives_its_splits_and_article_indices(tmp_path, reference_rows):
    report = import_iam(SAMPLE / "lineStrokes", tmp_path / "lines.npz", reference=REFERENCE)
    lines = load_lines(tmp_path / "lines.npz")
    for i, line_id in enumerate(lines.line_ids):
        assert lines.split[i] == reference_rows[str(line_id)]["split"]
        assert lines.article_index[i] == reference_rows[str(line_id)]["article_index"]
    assert report.article_lines == len(SAMPLE_ARTICLE_LINES)
    assert "47 lines from the reference" in report.split_rule


def test_a_reference_text_file_of_form_splits(tmp_path):
    require_sample()
    table = tmp_path / "splits.txt"
    table.write_text("# form split\na01-000u test\na01-087-02 val\n")
    import_iam(SAMPLE / "lineStrokes", tmp_path / "lines.npz", reference=table)
    lines = load_lines(tmp_path / "lines.npz")
    split = dict(zip(lines.line_ids, lines.split))
    assert all(split[f"a01-000u-0{n}"] == "test" for n in range(1, 7))
    assert split["a01-087-02"] == "val"
    table.write_text("a01-000u holdout\n")
    with pytest.raises(DataError, match="unknown split names"):
        import_iam(SAMPLE / "lineStrokes", tmp_path / "bad.npz", reference=table)


def test_the_article_lines_are_found_and_their_forms_held_out(tmp_path, reference_rows):
    if not ARTICLE_VALIDATION.is_dir():
        pytest.skip("../shared/data/article is absent")
    report = import_iam(SAMPLE / "lineStrokes", tmp_path / "lines.npz", article_dir=ARTICLE_VALIDATION)
    lines = load_lines(tmp_path / "lines.npz")
    found = {str(i): int(k) for i, k in zip(lines.line_ids, lines.article_index) if k >= 0}
    assert found == SAMPLE_ARTICLE_LINES
    assert report.article_lines == 2
    for line_id, split in zip(lines.line_ids, lines.split):
        if line_id.startswith("a01-020z-"):
            assert split == "val"
    for i, line_id in enumerate(lines.line_ids):
        assert lines.article_index[i] == reference_rows[str(line_id)]["article_index"]


def make_archive(path: Path, folder: Path, arcname: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder, arcname=arcname)
    return path


def test_the_archives_give_the_same_line_set(tmp_path, sample_import):
    require_sample()
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    strokes = make_archive(downloads / "lineStrokes-all.tar.gz", SAMPLE / "lineStrokes", "lineStrokes")
    make_archive(downloads / "ascii-all.tar.gz", SAMPLE / "ascii", "ascii")
    calls = []
    report = import_iam(strokes, tmp_path / "from-tar.npz", progress=lambda d, t: calls.append(t))
    assert report.transcriptions.endswith("ascii-all.tar.gz")  # found beside the archive
    assert calls == [None] * 47
    from_tar = load_lines(tmp_path / "from-tar.npz")
    _, from_folder, _ = sample_import
    for name in ("points", "t_ms", "starts", "line_ids", "texts", "split", "article_index"):
        np.testing.assert_array_equal(getattr(from_tar, name), getattr(from_folder, name), err_msg=name)


def test_transcriptions_are_found_beside_the_folder(tmp_path, sample_import):
    report = import_iam(SAMPLE / "lineStrokes", tmp_path / "lines.npz")
    assert report.transcriptions == str(SAMPLE / "ascii")
    np.testing.assert_array_equal(load_lines(tmp_path / "lines.npz").texts, sample_import[1].texts)


def test_lines_without_a_transcription_are_counted(tmp_path):
    require_sample()
    ascii_copy = shutil.copytree(SAMPLE / "ascii", tmp_path / "ascii")
    form = ascii_copy / "a01" / "a01-000" / "a01-000u.txt"
    text = form.read_text(encoding="latin-1").splitlines()
    form.write_text("\n".join(text[:-2]) + "\n", encoding="latin-1")  # drop the last two CSR lines
    report = import_iam(SAMPLE / "lineStrokes", tmp_path / "lines.npz", ascii_dir=ascii_copy)
    lines = load_lines(tmp_path / "lines.npz")
    texts = dict(zip(lines.line_ids, lines.texts))
    assert texts["a01-000u-05"] == texts["a01-000u-06"] == ""
    assert texts["a01-000u-04"] == "meeting of Labour M Ps tomorrow"
    assert report.without_text == 2
    assert "2 lines without one" in report.summary()


def test_damaged_files_are_skipped_counted_and_reported(tmp_path, reference_rows):
    require_sample()
    copy = shutil.copytree(SAMPLE, tmp_path / "sample")
    folder = copy / "lineStrokes" / "a01"
    truncated = folder / "a01-000" / "a01-000u-02.xml"
    truncated.write_bytes(truncated.read_bytes()[:1500])
    (folder / "a01-001" / "a01-001w-03.xml").write_bytes(bytes(range(256)) * 20)
    (folder / "a01-020" / "a01-020z-04.xml").write_bytes(DOCTYPE_XML)
    (folder / "a01-030" / "a01-030z-05.xml").write_bytes(b'<?xml version="1.0"?><StrokeSet/>')

    report = import_iam(copy / "lineStrokes", tmp_path / "lines.npz")
    lines = load_lines(tmp_path / "lines.npz")
    damaged = {"a01-000u-02", "a01-001w-03", "a01-020z-04", "a01-030z-05"}
    assert report.skipped == 4 and report.files_seen == 47 and report.lines == len(lines) == 43
    assert set(lines.line_ids) == set(reference_rows) - damaged
    reasons = dict(report.skipped_files)
    assert "not well-formed" in reasons["a01-000u-02.xml"]
    assert "not well-formed" in reasons["a01-001w-03.xml"]
    assert "DOCTYPE" in reasons["a01-020z-04.xml"]
    assert "no points" in reasons["a01-030z-05.xml"]
    summary = report.summary()
    assert "skipped 4 damaged files" in summary and "a01-020z-04.xml" in summary
    i = list(lines.line_ids).index("a01-000u-01")  # the lines around a damaged one are intact
    np.testing.assert_array_equal(lines.line_points(i), reference_rows["a01-000u-01"]["points"])


def test_doctype_and_entities_are_refused():
    with pytest.raises(DataError, match="DOCTYPE"):
        read_line_xml(DOCTYPE_XML)
    with pytest.raises(DataError, match="DOCTYPE"):
        read_line_xml(ENTITY_ONLY_XML)


def test_read_line_xml_reads_bytes_and_paths(reference_rows):
    path = SAMPLE / "lineStrokes" / "a01" / "a01-087" / "a01-087-03.xml"
    np.testing.assert_array_equal(read_line_xml(path), reference_rows["a01-087-03"]["points"])
    ink = read_line_ink(path.read_bytes())
    assert ink.points.dtype == np.int16 and ink.t_ms.dtype == np.int32
    np.testing.assert_array_equal(ink.t_ms, reference_rows["a01-087-03"]["t_ms"])


@pytest.mark.parametrize("xml, reason", [
    (b'<S><StrokeSet><Stroke><Point x="1.5" y="2" time="0"/></Stroke></StrokeSet></S>', "non-integer"),
    (b'<S><StrokeSet><Stroke><Point x="99999" y="2" time="0"/></Stroke></StrokeSet></S>', "out of range"),
    (b'<S><StrokeSet><Stroke><Point x="1" y="2"/></Stroke></StrokeSet></S>', "no 'time'"),
    (b'<S><StrokeSet><Stroke><Point x="1" y="2" time="nan"/></Stroke></StrokeSet></S>', "invalid time"),
    (b'<S><StrokeSet><Stroke></Stroke></StrokeSet></S>', "no points"),
    (b"", "not well-formed"),
])
def test_bad_values_are_named(xml, reason):
    with pytest.raises(DataError, match=reason):
        read_line_xml(xml)


def test_strokes_end_with_a_pen_lift_and_empty_strokes_are_dropped():
    xml = (b'<S><StrokeSet><Stroke><Point x="1" y="2" time="10.00"/><Point x="3" y="4" time="10.01"/>'
           b'</Stroke><Stroke/><Stroke><Point x="5" y="6" time="10.50"/></Stroke></StrokeSet></S>')
    ink = read_line_ink(xml)
    np.testing.assert_array_equal(ink.points, [[1, 2, 0], [3, 4, 1], [5, 6, 1]])
    np.testing.assert_array_equal(ink.t_ms, [0, 10, 500])


def test_a_missing_folder_says_what_was_expected(tmp_path):
    with pytest.raises(DataError, match=r"no such folder or archive; expected IAM-OnDB's lineStrokes"):
        import_iam(tmp_path / "nowhere", tmp_path / "lines.npz")
    assert not (tmp_path / "lines.npz").exists()


def test_an_empty_folder_says_what_was_expected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"holds no \.xml line files; expected .*a01-000u-01\.xml"):
        import_iam(tmp_path / "empty", tmp_path / "lines.npz")


def test_an_archive_without_line_files(tmp_path):
    (tmp_path / "ascii").mkdir()
    (tmp_path / "ascii" / "a01-000u.txt").write_text("CSR:\n\nA MOVE\n")
    archive = make_archive(tmp_path / "lineStrokes-all.tar.gz", tmp_path / "ascii", "ascii")
    with pytest.raises(DataError, match=r"holds no \.xml line files; expected IAM-OnDB's lineStrokes"):
        import_iam(archive, tmp_path / "lines.npz")


def test_a_file_that_is_not_an_archive(tmp_path):
    (tmp_path / "lineStrokes.zip").write_bytes(b"PK\x03\x04")
    with pytest.raises(DataError, match="neither a folder nor a .tar.gz archive"):
        import_iam(tmp_path / "lineStrokes.zip", tmp_path / "lines.npz")
    (tmp_path / "lineStrokes-all.tar.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(DataError, match="damaged or truncated archive"):
        import_iam(tmp_path / "lineStrokes-all.tar.gz", tmp_path / "lines.npz")


def test_a_truncated_archive_is_an_error_not_a_partial_import(tmp_path):
    require_sample()
    archive = make_archive(tmp_path / "lineStrokes-all.tar.gz", SAMPLE / "lineStrokes", "lineStrokes")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="damaged or truncated archive .*download it again"):
        import_iam(archive, tmp_path / "lines.npz")
    assert not (tmp_path / "lines.npz").exists()


def test_only_damaged_files_is_an_empty_result(tmp_path):
    folder = tmp_path / "lineStrokes" / "a01" / "a01-000"
    folder.mkdir(parents=True)
    (folder / "a01-000u-01.xml").write_bytes(b"<WhiteboardCaptureSession>")
    (folder / "a01-000u-02.xml").write_bytes(DOCTYPE_XML)
    with pytest.raises(DataError, match=r"no line could be read \(2 of 2 files damaged"):
        import_iam(tmp_path / "lineStrokes", tmp_path / "lines.npz")


def test_transcriptions_folder_errors(tmp_path):
    with pytest.raises(DataError, match="expected IAM-OnDB's ascii folder"):
        read_transcriptions(tmp_path / "nowhere")
    (tmp_path / "ascii").mkdir()
    (tmp_path / "ascii" / "a01-000u.txt").write_text("OCR:\n\nno csr section\n")
    with pytest.raises(DataError, match="no transcription files with a CSR"):
        read_transcriptions(tmp_path / "ascii")


def test_the_command_line_imports_and_summarises(tmp_path, capsys):
    require_sample()
    from inkcore.cli import main

    out = tmp_path / "lines.npz"
    code = main(["import-iam", str(SAMPLE / "lineStrokes"), "--ascii", str(SAMPLE / "ascii"), "--out", str(out)])
    assert code == 0
    assert "imported 47 lines" in capsys.readouterr().err
    assert len(load_lines(out)) == 47
    code = main(["import-iam", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.npz")])
    assert code == 1
    assert "expected IAM-OnDB's lineStrokes" in capsys.readouterr().err
