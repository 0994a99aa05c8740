"""Dynamics: the security system over time (issue #14).

Event processes (Hawkes attacks, an agent model of protest cascades), state variables of
the armed balance and the regimes defined on them, simulated over Monte Carlo paths.
"""
