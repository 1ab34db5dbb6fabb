"""Code that runs INSIDE the target interpreter, loaded by runner.py from its file path.

It may use only the stdlib, psutil and memory_profiler: the target environment need not have
memlens installed.
"""
