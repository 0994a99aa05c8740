"""The browser workbench (FastAPI)."""
