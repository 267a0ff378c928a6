"""sketch-edge: train a Quick, Draw! sketch classifier, export it for devices, benchmark every form."""

__version__ = "0.1.0"
