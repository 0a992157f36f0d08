"""Tests of inkcore.recording: the state along a line by either convention, one line or many."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SMALL_CONFIG, random_model, random_rows
from inkcore.model import mixture, step, zero_state
from inkcore.recording import record, record_spans, recording_arrays


@pytest.fixture(scope="module")
def model64():
    return random_model(SMALL_CONFIG, seed=9, dtype=np.float64)


def test_record_equals_stepping_one_row_at_a_time(small_model, rng):
    rows = random_rows(rng, 60)
    before = rows.copy()
    recording = record(small_model, rows)
    assert recording.h.shape == recording.c.shape == (len(rows), small_model.config.cells)
    state = zero_state(small_model)
    for t, row in enumerate(rows):
        state = step(small_model, row, state)  # no zero row first: state t has read rows 0..t
        np.testing.assert_allclose(recording.h[t], state.h, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(recording.c[t], state.c, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(rows, before)


def test_record_rejects_rows_that_are_not_offsets(small_model):
    with pytest.raises(ValueError):
        record(small_model, np.zeros((5, 2)))


def test_after_a_zero_row_state_t_has_read_rows_before_t(small_model, rng):
    rows = random_rows(rng, 30)
    recording = record(small_model, rows, after_zero_row=True)
    state = step(small_model, np.zeros(3), zero_state(small_model))
    for t, row in enumerate(rows):
        np.testing.assert_allclose(recording.h[t], state.h, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(recording.c[t], state.c, rtol=1e-5, atol=1e-6)
        state = step(small_model, row, state)


@pytest.mark.parametrize("after_zero_row", [False, True])
def test_lines_side_by_side_record_as_each_line_alone(model64, after_zero_row):
    rng = np.random.default_rng(3)
    lines = [random_rows(rng, length) for length in (50, 33, 33, 4)]  # longest first
    h = [np.full((len(rows), model64.config.cells), np.nan) for rows in lines]
    for span in record_spans(model64, lines, after_zero_row=after_zero_row, span_steps=16):
        for b in range(len(lines)):
            steps = np.flatnonzero(span.real[:, b])
            h[b][span.start + steps] = span.h[steps, b]
    for rows, recorded in zip(lines, h):
        alone = record(model64, rows, after_zero_row=after_zero_row)
        np.testing.assert_allclose(recorded, alone.h, rtol=0, atol=1e-12)


def test_recording_arrays_hold_the_state_and_its_mixture(small_model, rng):
    recording = record(small_model, random_rows(rng, 12))
    arrays = recording_arrays(small_model, recording)
    assert list(arrays) == ["h", "c", "pi", "mu_x", "mu_y", "sigma_x", "sigma_y", "rho", "eos"]
    mix = mixture(small_model, recording.h)
    np.testing.assert_array_equal(arrays["c"], recording.c)
    np.testing.assert_array_equal(arrays["pi"], mix.pi)
    np.testing.assert_array_equal(arrays["eos"], mix.eos)
    assert arrays["sigma_x"].shape == (12, small_model.config.components)
