"""inkcore: look inside a neural network that writes by hand."""

__version__ = "0.1.0"
