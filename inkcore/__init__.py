"""inkcore: look inside a neural network that writes by hand.

The package's names are its Python face (:mod:`inkcore.api`)::

    import inkcore
    model = inkcore.load()
    line = model.sample(700, seed=1)
    fig = inkcore.figures.coloured_line(line, model.record(line).c[:, 93])

* :func:`load` reads a model (the shipped one, ``"article"`` or a path) and returns a
  :class:`LoadedModel`, whose methods sample, record, score, continue, draw possible
  futures, probe, hold cells, read features and explain predictions;
* :mod:`figures` builds Plotly figures of handwriting (:func:`inkcore.figures.coloured_line`).

The engine's modules import one another by their full names (``from inkcore.model
import run``, ``import inkcore.corpus as corpus``), never names of this package
(``from inkcore import corpus``): the package imports the facade, which imports them,
so one reading the package's names would import it back while it is being set up.
"""

import inkcore.figures as figures
from inkcore.api import LoadedModel, load
from inkcore.version import __version__

__all__ = ["LoadedModel", "figures", "load", "__version__"]
