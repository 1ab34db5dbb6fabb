"""Data-flow facts that rules ask about a match: what the code keeps of a value, where the value
goes, what the loop around it runs over, and whether autograd records a forward pass.

The facts are read from the same ast-grep tree the rules match (broken code still answers),
within one function or the module (a notebook's or a script's module level is its program),
and through one level of calls in the same file.
"""
