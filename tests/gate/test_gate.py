"""The gate: every check on every cell of the matrix (stack x prompt x scenario)."""
from pytest_luxgate.gate_suite import *  # noqa: F401,F403
