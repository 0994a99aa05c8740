"""`tawazun validate`, `schema`, `forecast` (filled in by the trunk work)."""
