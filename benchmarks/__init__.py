"""The benchmark harness: ``python -m benchmarks`` (see docs/benchmarks.md)."""
