from functools import partial

import streamlit as st

from dashboard import frame, library, models, sampled
from inkcore import data, figures, render, sampling

#: The Variation slider's end and step; the Length slider's.
VARIATION_MAX, VARIATION_STEP = 1.5, 0.05
STEPS_MAX, STEPS_STEP = 1500, 50

frame.page_setup("The model writes")
st.caption("Lines the model writes by itself, from a blank state, one point at a time. "
           "Variation scales how far each point may stray from the model's likeliest choice.")
loaded = models.require_model()


def sample_controls() -> tuple[int, int, float, int]:
    a, b, c, d = st.columns(4)
    count = a.slider("Samples", 1, 12, key=frame.remembered("samples_count", 6))
    steps = b.slider("Length (steps)", STEPS_STEP, STEPS_MAX, step=STEPS_STEP,
                     key=frame.remembered("samples_steps", library.SAMPLE_STEPS))
    variation = c.slider("Variation", 0.0, VARIATION_MAX, step=VARIATION_STEP,
                         key=frame.remembered("samples_variation", sampling.SAMPLE_VARIATION))
    seed = d.number_input("Seed", 0, 10**6, key=frame.remembered("samples_seed", 1))
    return count, steps, round(variation, 2), int(seed)  # 0.7, not the slider's 0.7000000000000001


@st.fragment
def samples_view() -> None:
    """The controls and the lines they change, without the page's frame."""
    count, steps, variation, seed = sample_controls()
    with st.spinner("Writing…"):
        # line i is seeded seed + i and cached alone, so a change of count draws only the lines it adds
        lines = sampled.samples(loaded.model, loaded.key, steps, variation, range(seed, seed + count))
    # what the next change will likely ask for is written in the background while the reader looks:
    # the Variation slider's next notch, both ways on a first visit, then the way it last moved;
    # a notch more Length, and one more Sample
    previous = st.session_state.get("_samples_variation_seen")
    st.session_state._samples_variation_seen = variation
    ways = (1, -1) if previous is None or previous == variation else (1 if variation > previous else -1,)
    ahead = [v for v in (round(variation + way * VARIATION_STEP, 2) for way in ways) if 0 <= v <= VARIATION_MAX]
    sampled.prefetch_samples(loaded.model, loaded.key, steps, ahead, range(seed, seed + count),
                             longer=(min(steps + STEPS_STEP, STEPS_MAX), variation, seed + count))
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
