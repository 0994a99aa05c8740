"""tawazun (توازن, "balance"): make a political-security arena executable."""

__version__ = "0.1.0"
