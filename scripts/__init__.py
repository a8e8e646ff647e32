"""Helpers for running the platform's processes, shared by the run command, the benchmarks and the tests."""
