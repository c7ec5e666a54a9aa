"""The reference implementation: a faithful server of the documented contract, for certification and for tests.

Checks never import this package; the engine only starts it as a target.
"""
