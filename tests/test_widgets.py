"""The strips beside and under the cell heatmap (dashboard.widgets): built as every
figure is, and lined up with the heatmap."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.heatmap import HEATMAP_MARGIN
from dashboard.widgets import row_marker, step_ruler
from inkcore.figures import CHECK_ENV
from test_figures import _same_figure

WIDGETS = {
    "step_ruler": (step_ruler, (90, 33)),
    "step_ruler_at_the_end": (step_ruler, (90, 88)),
    "row_marker": (row_marker, (500, 40, 520, "cell 40")),
    "row_marker_unnamed": (row_marker, (500, 40)),
}


@pytest.mark.parametrize("name", WIDGETS)
def test_every_widget_draws_the_same_figure_with_and_without_plotlys_checks(name, monkeypatch):
    build, args = WIDGETS[name]
    monkeypatch.setenv(CHECK_ENV, "1")
    checked = build(*args).to_json()
    monkeypatch.setenv(CHECK_ENV, "0")
    quick = build(*args)
    drawn = json.loads(quick.to_json())
    assert quick.to_json() == checked or _same_figure(drawn, json.loads(go.Figure(drawn).to_json()))


def test_the_step_ruler_lines_up_with_the_heatmap(rng):
    ruler = step_ruler(90, 33)
    # the heatmap's canvas (dashboard/heatmap.js) draws step t over [t - 0.5, t + 0.5] inside these margins
    assert list(ruler.layout.xaxis.range) == [-0.5, 89.5]
    assert (ruler.layout.margin.l, ruler.layout.margin.r) == (HEATMAP_MARGIN["l"], HEATMAP_MARGIN["r"])
    targets = ruler.data[1]
    np.testing.assert_array_equal(targets.x, np.arange(90))
    np.testing.assert_array_equal(targets.customdata, np.arange(90))
    mark = ruler.data[2]
    assert list(mark.x) == [33] and mark.text == ("step 33",)
