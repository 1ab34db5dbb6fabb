"""Size evidence: what the data files a load names say about their size, read from their
metadata without loading them (see docs/sizes.md).

    from memlens.sizes import read_size, resolve_path

    named = resolve_path(node, "notebooks/eda.ipynb", root)   # the load's path argument
    if named is not None and named.path is not None:
        size = read_size(named.path, root)      # a DataSize; never raises
        size.bytes, size.rows, size.columns, size.parts, size.summary()

Standard library only at import time: pyarrow and h5py are imported by their readers, on
first use, when they are installed. Nothing here imports the engine's rules or the server.
"""

from memlens.sizes.model import DataSize, Part
from memlens.sizes.paths import NamedPath, resolve_path
from memlens.sizes.read import clear_cache, kind_of_name, read_size

__all__ = ["DataSize", "NamedPath", "Part", "clear_cache", "kind_of_name", "read_size",
           "resolve_path"]
