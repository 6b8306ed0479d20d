"""Analyses on the chain: uncertainty (Monte Carlo ranges, tornado), fidelity (the model
against published chips: ``dse validate``) and the comparison of chips (``dse compare``).
"""
