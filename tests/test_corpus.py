"""Corpus work (inkcore.corpus): batches equal line by line, what a job keeps stays
bounded as the corpus grows, and a Dask cluster gives the in-process figures."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore import corpus, intervene
from inkcore.cells import probe_cells, record
from inkcore.data import LineSet, save_lines
from inkcore.evaluate import line_log_likelihood, score
from inkcore.model import run, run_ragged
from inkcore.probes import CellScores, stroke_features
from inkcore.strokes import model_inputs

LENGTHS = (37, 3, 80, 12, 1, 55, 20, 80, 9)


@pytest.fixture(scope="module")
def model64():
    return random_model(SMALL_CONFIG, seed=9, dtype=np.float64)


@pytest.fixture(scope="module")
def lines():
    rng = np.random.default_rng(8)
    return [random_rows(rng, length, lift_every=4 + k) for k, length in enumerate(LENGTHS)]


def test_a_ragged_run_records_each_line_as_a_run_of_it_alone(model64, lines):
    ordered = sorted(lines, key=len, reverse=True)
    h = [np.zeros((len(rows), model64.config.cells)) for rows in ordered]
    seen = [np.zeros(len(rows), int) for rows in ordered]
    for span in run_ragged(model64, [model_inputs(rows) for rows in ordered]):
        for b in range(len(ordered)):
            steps = np.flatnonzero(span.real[:, b])
            h[b][span.start + steps] = span.h[steps, b]
            seen[b][span.start + steps] += 1
            assert not span.h[~span.real[:, b], b].any()  # an ended line leaves zeros
    for rows, recorded, count in zip(ordered, h, seen):
        alone = run(model64, model_inputs(rows)[:, None, :]).h[:, 0]
        assert (count == 1).all()
        np.testing.assert_allclose(recorded, alone, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="longest first"):
        next(run_ragged(model64, [np.zeros((2, 3)), np.zeros((5, 3))]))


def test_batched_scores_equal_line_by_line(model64, lines):
    for primes in (None, [random_rows(np.random.default_rng(k), k % 4 * 5) for k in range(len(lines))]):
        together = corpus.scored_log_likelihood(model64, lines, primes)
        for k, (rows, ll) in enumerate(zip(lines, together)):
            read = rows if primes is None else np.concatenate([primes[k], rows])
            alone = line_log_likelihood(model64, read)
            assert ll.gauss.shape == (len(rows),)
            np.testing.assert_allclose(ll.gauss, alone.gauss[len(read) - len(rows):], rtol=0, atol=1e-10)
            np.testing.assert_allclose(ll.eos, alone.eos[len(read) - len(rows):], rtol=0, atol=1e-10)
    singles = [line_log_likelihood(model64, rows) for rows in lines]
    points = sum(LENGTHS)
    for batch_lines in (32, 4, 1):
        sums = corpus.score_sums(model64, corpus.corpus_of(lines), batch_lines=batch_lines)
        assert sums.points == points and sums.sequences == len(lines)
        assert sums.gauss == pytest.approx(sum(ll.gauss.sum() for ll in singles), rel=1e-12)
        assert sums.eos == pytest.approx(sum(ll.eos.sum() for ll in singles), rel=1e-12)


def test_batched_recordings_equal_line_by_line(model64, lines):
    recorded = dict(corpus.recordings(model64, corpus.corpus_of(lines), batch_lines=4))
    assert sorted(recorded) == list(range(len(lines)))
    for k, rows in enumerate(lines):
        alone = record(model64, rows)
        np.testing.assert_allclose(recorded[k]["h"], alone.h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(recorded[k]["c"], alone.c, rtol=0, atol=1e-12)
        assert recorded[k]["pi"].shape == (len(rows), SMALL_CONFIG.components)
        np.testing.assert_allclose(recorded[k]["pi"].sum(axis=1), 1.0)


def test_batched_probes_and_means_equal_line_by_line(model64, lines):
    together = corpus.cell_scores(model64, corpus.corpus_of(lines))
    alone = CellScores()
    for rows in lines:
        alone.add(stroke_features(rows), record(model64, rows).c)
    for name in ("x", "direction", "pen_lift"):
        np.testing.assert_allclose(together.scores(name), alone.scores(name), rtol=0, atol=1e-9)
    means = intervene.cell_means(model64, lines)
    steps = np.concatenate([run(model64, model_inputs(rows)[:, None, :]).c[:, 0] for rows in lines])
    np.testing.assert_allclose(means, steps.mean(axis=0), rtol=0, atol=1e-12)


def test_scores_merged_from_parts_equal_scores_added_together(model64, lines):
    whole, first, second = CellScores(), CellScores(), CellScores()
    for k, rows in enumerate(lines):
        recorded = record(model64, rows).c + 5.0  # far from zero: the shifts differ between parts
        whole.add(stroke_features(rows), recorded)
        (first if k < 4 else second).add(stroke_features(rows), recorded)
    merged = first.merge(second)
    for name in ("x", "y", "direction", "speed"):
        np.testing.assert_allclose(merged.scores(name), whole.scores(name), rtol=0, atol=1e-9)


def test_batches_are_planned_from_the_lengths_alone():
    lengths = [5, 0, 9, 9, 2, 7, 0, 1]
    batches = corpus.plan_batches(lengths, 3)
    assert [list(b) for b in batches] == [[2, 3, 5], [0, 4, 7]]  # longest first, ties by index, no empty lines
    assert [list(b) for b in corpus.plan_batches(lengths, 3)] == [list(b) for b in batches]


def generated_corpus(count: int, reads: list) -> corpus.Corpus:
    """``count`` lines made when read, each read noted in ``reads``."""
    lengths = np.array([20 + (k * 37) % 90 for k in range(count)])

    def read(i: int) -> np.ndarray:
        reads.append(i)
        return random_rows(np.random.default_rng(i), int(lengths[i]))

    return corpus.Corpus(lengths, read, tuple(map(str, range(count))))


@pytest.mark.parametrize("workers", [1, 2])
def test_what_a_job_keeps_does_not_grow_with_the_corpus(small_model, workers):
    """A job reads lines a few batches ahead of what it has folded, and its result is
    a fixed set of sums, whether the corpus holds 40 lines or 400."""
    batch_lines = 4
    kept = {}
    for count in (40, 400):
        reads, ahead = [], []

        def progress(done, total):
            ahead.append(len(reads) - done)  # lines read but not yet folded

        executor = corpus.InProcess(workers)
        sums = corpus.score_sums(small_model, generated_corpus(count, reads), executor=executor,
                                 on_progress=progress, batch_lines=batch_lines)
        assert sums.sequences == count and len(reads) == count  # every line read once
        assert max(ahead) <= corpus.BATCHES_AHEAD * workers * batch_lines
        kept[count] = [np.asarray(value).nbytes for value in sums]
    assert kept[40] == kept[400]


def test_a_ragged_run_holds_one_span_of_states(small_model):
    from inkcore.model import MAX_SPAN_STEPS, SPAN_ELEMENTS

    long_lines = [np.zeros((1000, 3))] * 3
    starts = []
    for span in run_ragged(small_model, long_lines):
        assert len(span.h) <= MAX_SPAN_STEPS and 4 * span.h.size <= SPAN_ELEMENTS
        assert span.h.shape[1:] == (3, small_model.config.cells)
        starts.append(span.start)
    assert starts == list(range(0, 1000, MAX_SPAN_STEPS))


def test_results_come_in_batch_order_whatever_order_they_finish(small_model):
    def slow_first(k):
        time.sleep(0.05 if k == 0 else 0.0)
        return k

    seen = []
    results = corpus.run_batches(slow_first, (), [(k,) for k in range(6)], [1] * 6, corpus.InProcess(2),
                                 lambda done, total: seen.append((done, total)))
    assert list(results) == list(range(6))
    assert seen[-1] == (6, 6) and [done for done, _ in seen] == sorted(done for done, _ in seen)


def write_line_set(path, rng) -> LineSet:
    points, starts = [], [0]
    for length in (30, 12, 45, 8):
        line = np.zeros((length, 3), np.int16)
        line[:, :2] = np.cumsum(rng.integers(-20, 20, (length, 2)), axis=0)
        line[5::7, 2] = 1
        points.append(line)
        starts.append(starts[-1] + length)
    line_set = LineSet(np.concatenate(points), np.zeros(starts[-1], np.int32), np.array(starts),
                       np.array(["a-0", "a-1", "a-2", "a-3"]), np.array(["", "", "", ""]),
                       np.array(["train", "val", "train", "test"]), np.full(4, -1))
    save_lines(path, line_set)
    return line_set


def test_corpora_from_a_line_set_and_from_folders(tmp_path, rng):
    from inkcore.data import load_lines

    line_set = write_line_set(tmp_path / "lines.npz", rng)
    every = corpus.read_corpus(tmp_path / "lines.npz")
    train = corpus.read_corpus(tmp_path / "lines.npz", "train")
    assert len(every) == 4 and train.names == ("a-0", "a-2")
    assert list(train.lengths) == [29, 44]
    np.testing.assert_array_equal(train.rows(1), load_lines(tmp_path / "lines.npz").model_rows("train")[1])
    with pytest.raises(ValueError, match="split"):
        corpus.read_corpus(tmp_path / "lines.npz", "dev")
    assert len(line_set) == 4

    strokes = tmp_path / "strokes"
    strokes.mkdir()
    (strokes / "b.json").write_text(json.dumps(random_rows(rng, 10).tolist()))
    (strokes / "a.json").write_text(json.dumps([random_rows(rng, 6).tolist(), random_rows(rng, 4).tolist()]))
    read = corpus.read_corpus(strokes)
    assert read.names == ("a-1", "a-2", "b") and list(read.lengths) == [6, 4, 10]
    with pytest.raises(ValueError, match="line set"):
        corpus.read_corpus(strokes, "val")


@pytest.fixture(scope="module")
def local_cluster():
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'inkcore[cluster]')")
    with corpus.open_executor("local:2") as executor:
        yield executor


def test_a_local_cluster_gives_the_in_process_figures(local_cluster, small_model, lines):
    other = random_model(SMALL_CONFIG, seed=4)
    judged = [rows for rows in lines if len(rows) > 5]
    here = {
        "score": score(small_model, lines).to_dict(),
        "probe": probe_cells(small_model, lines, top=4),
        "costs": intervene.ablation_costs(small_model, judged[:3], cells=[0, 5, 9], batch_rows=2),
        "match": intervene.state_correlations(small_model, other, lines),
    }
    progress = []
    there = {
        "score": score(small_model, lines, executor=local_cluster,
                       on_progress=lambda done, total: progress.append(done)).to_dict(),
        "probe": probe_cells(small_model, lines, top=4, executor=local_cluster),
        "costs": intervene.ablation_costs(small_model, judged[:3], cells=[0, 5, 9], batch_rows=2,
                                          executor=local_cluster),
        "match": intervene.state_correlations(small_model, other, lines, executor=local_cluster),
    }
    for key in ("nll_per_point", "gauss_per_point", "eos_per_point"):
        assert there["score"][key] == pytest.approx(here["score"][key], abs=1e-9)
    assert there["score"]["points"] == here["score"]["points"]
    for feature, ranked in here["probe"].items():
        assert [c for c, _ in there["probe"][feature]] == [c for c, _ in ranked]
        np.testing.assert_allclose([s for _, s in there["probe"][feature]], [s for _, s in ranked], atol=1e-9)
    np.testing.assert_allclose(there["costs"], here["costs"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(there["match"], here["match"], rtol=0, atol=1e-9)
    assert progress[-1] == sum(1 for rows in lines if len(rows))


def test_a_bad_scheduler_is_one_clear_error():
    pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'inkcore[cluster]')")
    for address, words in (("local:0", "at least 1"), ("nowhere", "cannot reach")):
        with pytest.raises(corpus.CorpusError, match=words):
            with corpus.open_executor(address):
                pass


def test_models_of_other_sizes_are_matched_step_for_step(small_model, lines, monkeypatch):
    """Two models' states are paired step by step even where their spans would differ."""
    import inkcore.model

    monkeypatch.setattr(inkcore.model, "SPAN_ELEMENTS", 2**11)  # spans of a few steps, shorter for more cells
    other = random_model(type(SMALL_CONFIG)(cells=6, components=2), seed=3)
    r = intervene.state_correlations(small_model, other, lines)
    a = np.concatenate([run(small_model, model_inputs(rows)[:, None, :]).c[:, 0] for rows in lines])
    b = np.concatenate([run(other, model_inputs(rows)[:, None, :]).c[:, 0] for rows in lines])
    expected = np.corrcoef(a.T.astype(np.float64), b.T.astype(np.float64))[: a.shape[1], a.shape[1]:]
    np.testing.assert_allclose(r, expected, rtol=0, atol=1e-4)
