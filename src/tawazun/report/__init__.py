"""Reports: self-contained HTML built from a forecast run."""
