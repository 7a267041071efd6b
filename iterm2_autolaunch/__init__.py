"""Open remote Jupyter (and friends) in the local browser through an automatic SSH forward."""

__version__ = "0.1.0"
