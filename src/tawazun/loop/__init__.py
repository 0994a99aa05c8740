"""The analyst's loop: what-if, levers, questions, sealed forecasts and scoring.

Pure functions over the pipeline's results (:mod:`tawazun.forecast`); file I/O lives in
``cli/loop_cmds.py`` and ``web/``. Submodules are imported where used: the arena model
imports :mod:`tawazun.loop.questions`, so this package's ``__init__`` imports nothing.
"""
