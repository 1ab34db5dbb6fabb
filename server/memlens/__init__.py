"""memlens: find and fix the memory-hungry patterns of ML and data Python code."""

__version__ = "0.1.0"
