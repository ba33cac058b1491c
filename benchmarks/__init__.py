"""Benchmarks: keystroke latency, kernels, and the side-by-side comparison with peer IMEs."""
