"""Benchmarks and load tests: ``python -m bench.run`` (see bench/README.md)."""
