"""Simulated HR data and HR providers, for tests, benchmarks and the local demo."""
