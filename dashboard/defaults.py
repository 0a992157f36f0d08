"""What the dashboard's controls offer and start at, where more than one module reads it,
and the words of the mark over a result being replaced. Plain constants with nothing of
Streamlit behind them, so the app's benchmark imports them too; the engine's own defaults
(the article's variations, its futures) are inkcore's and are taken from there."""
from __future__ import annotations

#: Every Variation slider runs from 0 to this, in notches of this.
VARIATION_MAX, VARIATION_STEP = 1.5, 0.05
#: Every Seed box takes whole numbers from 0 to this.
SEED_MAX = 10**6

#: The Write page's continuation: its Length slider's range and first value, and its
#: Candidates slider's (it starts at inkcore.sampling.WRITE_VARIATION, the article's).
WRITE_LENGTH_MIN, WRITE_LENGTH_MAX, WRITE_LENGTH = 5, 400, 20
WRITE_CANDIDATES, MAX_CANDIDATES = 1, 6

#: The words of the mark over a result that is being replaced (tests and the benchmark look for them).
UPDATING = "Updating"
