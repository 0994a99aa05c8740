"""Backtests of the bargaining engines against recorded decision outcomes.

``deu``         reads the DEU III tab-separated layout into per-issue records.
``capability``  named capability schemes (``equal``, ``council``).
``metrics``     point and probabilistic scores, coverage, proposal-level bootstrap.
``protocol``    grouped K-fold split by proposal, out-of-fold evaluation.
``models``      fitted predictors (blends, learned salience exponent) and the
                out-of-fold residual distribution that turns a point forecast into
                a predictive distribution.
``report``      the self-contained HTML page.
``attacks``     rolling-origin backtest of monthly attack counts (Hawkes vs count models).
"""

from tawazun.evaluation.deu import DeuData, DeuIssue, load_deu

__all__ = ["DeuData", "DeuIssue", "load_deu"]
