"""Benchmarks (``make bench``): each measured as a ratio against a raw baseline in the same run,
because the machine is shared and noisy. Never assert timings in tests; targets live here."""
