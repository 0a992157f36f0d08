from functools import partial

import streamlit as st

from dashboard import background, frame, models, sampled, samples
from inkcore import data, figures, render

frame.page_setup("The model writes")
st.caption("Lines the model writes by itself, from a blank state, one point at a time. "
           "Variation scales how far each point may stray from the model's likeliest choice.")
loaded = models.require_model()


@st.fragment
def samples_view() -> None:
    """The controls and the lines they change, without the page's frame."""
    count, steps, variation, seed = samples.sample_controls()
    # line i is seeded seed + i and cached alone, so a change of count draws only the lines it adds
    shown, job = sampled.sample_grid(loaded, steps, variation, range(seed, seed + count))
    if job is not None:
        background.updating_mark(job, f"{count} lines of {steps} steps at variation {variation:g}")
    # what the next change will likely ask for is written in the background while the reader looks
    samples.samples_ahead(loaded, count, steps, variation, seed)
    st.plotly_chart(figures.handwriting_grid(shown.lines, [f"seed {s}" for s in shown.seeds]), key="samples_grid")
    grid = st.expander("Download these lines (SVG, PNG or JSON)").columns(2)
    for index, (line_seed, rows) in enumerate(zip(shown.seeds, shown.lines)):
        with grid[index % 2]:
            name = f"inkcore-sample-seed{line_seed}-v{shown.variation:g}"
            label, svg, png, rows_json = st.columns([2, 1, 1, 1], vertical_alignment="center")
            label.caption(f"seed {line_seed}")
            # files are made when a button is clicked, not on every run of the page
            svg.download_button("SVG", partial(render.to_svg, [rows]), f"{name}.svg", "image/svg+xml",
                                key=f"svg_{index}")
            png.download_button("PNG", partial(render.to_png, [rows]), f"{name}.png", "image/png", key=f"png_{index}")
            rows_json.download_button("JSON", partial(data.stroke_json, rows), f"{name}.json", "application/json",
                                      key=f"json_{index}")
    samples.hand_comparison(loaded, steps, variation, seed)


samples_view()
