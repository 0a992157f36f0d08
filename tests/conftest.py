"""Shared fixtures: the article's model and data when ``../shared`` is present,
and a small seeded random model that every fast test can use."""
from __future__ import annotations

import os

# One BLAS thread: the suite's matrix products are small, so threads only add
# overhead, and on a machine whose cores are busy (CI, a training run) they
# wait on each other for seconds. The variables reach subprocesses (the CLI
# tests) and torch; threadpoolctl covers a NumPy that was loaded before them.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# Every figure is built with Plotly's checks of each property (the app builds them without:
# inkcore.figures.CHECK_ENV), so a misspelt property fails a test rather than vanishing.
os.environ.setdefault("INKCORE_CHECK_FIGURES", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from inkcore.model import Config, expected_shapes, make_model  # noqa: E402

threadpool_limits(limits=1, user_api="blas")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ARTICLE = SHARED / "data" / "article"
ARTICLE_WEIGHTS = ARTICLE / "b64_weights.json"
ARTICLE_VALIDATION = ARTICLE / "validation-data"

#: Small enough that a run of a few hundred steps takes milliseconds.
SMALL_CONFIG = Config(cells=16, components=3)


def require_shared(path: Path) -> Path:
    """Skip the calling test when a file of ``../shared`` is not beside the repository."""
    if not path.exists():
        folder = path.relative_to(SHARED / "data").parts[0]
        pytest.skip(f"../shared/data/{folder} is absent: {path} not found (only developers and CI have it)")
    return path


def random_model(config: Config, seed: int = 0, dtype=np.float32):
    """A model with weights of a trained model's scale: varied but not saturated."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in expected_shapes(config).items():
        fan_in = shape[0] if len(shape) == 2 else 1
        arrays[name] = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape).astype(dtype)
    return make_model(config, **arrays)


def random_rows(rng: np.random.Generator, steps: int, lift_every: int = 7) -> np.ndarray:
    """Offset rows (steps, 3) in model units with a pen lift every few rows."""
    rows = np.zeros((steps, 3))
    rows[:, :2] = rng.normal(0.0, 0.6, (steps, 2))
    rows[lift_every - 1 :: lift_every, 2] = 1.0
    return rows


def reference_step(model, x, h, c):
    """The article's LSTM step written out from its description, in float64:
    z = [x, h] @ [W_x; W_h] + b, gates i, g, f (+ forget bias), o."""
    n = model.config.cells
    weights = np.vstack([model.W_x, model.W_h]).astype(np.float64)
    z = np.concatenate([x, h], axis=-1) @ weights + model.b
    logistic = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
    i = logistic(z[..., 0:n])
    g = np.tanh(z[..., n : 2 * n])
    f = logistic(z[..., 2 * n : 3 * n] + model.config.forget_bias)
    o = logistic(z[..., 3 * n : 4 * n])
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next


@pytest.fixture(scope="session")
def article_model():
    from inkcore.weights import load

    model, _ = load(require_shared(ARTICLE_WEIGHTS))
    return model


@pytest.fixture(scope="session")
def small_model():
    return random_model(SMALL_CONFIG, seed=0)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


SHIPPED_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "inkcore.npz"


@pytest.fixture(scope="session")
def shipped_weights() -> Path:
    """The model the repository ships, which the app loads by default."""
    if not SHIPPED_WEIGHTS.exists():
        pytest.skip(f"{SHIPPED_WEIGHTS} is absent: no trained model has been committed yet")
    return SHIPPED_WEIGHTS
