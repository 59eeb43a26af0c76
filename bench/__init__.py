"""sleuth's benchmarks: figures and ratios measured in one run, never pass/fail (see README.md)."""
