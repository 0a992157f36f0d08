from functools import partial

import streamlit as st

from dashboard import frame, models, sampled, samples
from inkcore import data, figures, render

frame.page_setup("The model writes")
st.caption("Lines the model writes by itself, from a blank state, one point at a time. "
           "Variation scales how far each point may stray from the model's likeliest choice.")
loaded = models.require_model()


@st.fragment
def samples_view() -> None:
    """The controls and the lines they change, without the page's frame."""
    count, steps, variation, seed = samples.sample_controls()
    with st.spinner("Writing…"):
        # line i is seeded seed + i and cached alone, so a change of count draws only the lines it adds
        lines = sampled.samples(loaded.model, loaded.key, steps, variation, range(seed, seed + count))
    # what the next change will likely ask for is written in the background while the reader looks
    samples.samples_ahead(loaded, count, steps, variation, seed)
    st.plotly_chart(figures.handwriting_grid(lines, [f"seed {seed + index}" for index in range(len(lines))]),
                    key="samples_grid")
    grid = st.expander("Download these lines (SVG, PNG or JSON)").columns(2)
    for index, rows in enumerate(lines):
        with grid[index % 2]:
            name = f"inkcore-sample-seed{seed + index}-v{variation:g}"
            label, svg, png, rows_json = st.columns([2, 1, 1, 1], vertical_alignment="center")
            label.caption(f"seed {seed + index}")
            # files are made when a button is clicked, not on every run of the page
            svg.download_button("SVG", partial(render.to_svg, [rows]), f"{name}.svg", "image/svg+xml",
                                key=f"svg_{index}")
            png.download_button("PNG", partial(render.to_png, [rows]), f"{name}.png", "image/png", key=f"png_{index}")
            rows_json.download_button("JSON", partial(data.stroke_json, rows), f"{name}.json", "application/json",
                                      key=f"json_{index}")


samples_view()
