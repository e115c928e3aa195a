"""``make bench``: crisisflow's figures beside the Temporal floor (see docs/BENCHMARKS.md)."""
