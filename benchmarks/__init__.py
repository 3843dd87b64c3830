"""Benchmarks: one script per area, each printing medians and ratios against a baseline run alongside."""
