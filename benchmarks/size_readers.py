"""How long each size reader takes per file, against a plain `os.stat` of the same file.

    .venv/bin/python benchmarks/size_readers.py [--runs 30] [--scale 1.0]

Writes one file of each kind into a temporary folder with the real libraries (numpy, pandas,
pyarrow, torch, safetensors, h5py: the kinds whose library is missing are skipped), then, for
each, times `read_size` with an empty cache ("cold": what the first check of a file costs),
with the answer cached ("cached": every later check while the file is unchanged), and
`os.stat`; the median of `--runs` runs each, in microseconds, with the bytes the reader read.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "server"))

from memlens.sizes import clear_cache, read_size  # noqa: E402
from memlens.sizes.model import human_bytes  # noqa: E402


def _make(folder: Path, scale: float) -> dict[str, Path]:
    """name -> path of one file of each kind whose library is installed."""
    made: dict[str, Path] = {}
    rows = max(int(200_000 * scale), 1_000)
    try:
        import numpy as np
        import pandas as pd

        rng = np.random.default_rng(0)
        frame = pd.DataFrame({f"c{i}": rng.random(rows) for i in range(12)})
        frame["city"] = rng.choice(["Lyon", "Paris", "Nantes"], rows)
        frame.to_csv(folder / "table.csv", index=False)
        made["csv"] = folder / "table.csv"
        frame.to_csv(folder / "table.csv.gz", index=False)
        made["csv.gz"] = folder / "table.csv.gz"
        np.save(folder / "array.npy", rng.random((rows, 16)))
        made["npy"] = folder / "array.npy"
        np.savez(folder / "arrays.npz", **{f"a{i}": rng.random((rows // 10, 8)) for i in range(20)})
        made["npz"] = folder / "arrays.npz"
        import pickle

        with open(folder / "frame.pkl", "wb") as f:
            pickle.dump(frame.head(1000), f)
        made["pickle"] = folder / "frame.pkl"
    except ImportError:
        return made
    try:
        frame.to_parquet(folder / "table.parquet", row_group_size=max(rows // 20, 1))
        made["parquet"] = folder / "table.parquet"
    except ImportError:
        pass
    try:
        import h5py

        with h5py.File(folder / "data.h5", "w") as f:
            for i in range(20):
                f.create_dataset(f"group{i % 4}/d{i}", data=rng.random((rows // 20, 8)))
        made["hdf5"] = folder / "data.h5"
    except ImportError:
        pass
    try:
        import torch

        layers = [torch.nn.Linear(512, 512) for _ in range(max(int(24 * scale), 2))]
        model = torch.nn.Sequential(*layers)
        optimizer = torch.optim.Adam(model.parameters())
        model(torch.randn(4, 512)).sum().backward()
        optimizer.step()
        ema = {k: v.detach().half() for k, v in model.state_dict().items()}
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "ema": ema, "epoch": 3}, folder / "checkpoint.pt")
        made["torch"] = folder / "checkpoint.pt"
        from safetensors.torch import save_file

        weights = folder / "model"
        weights.mkdir()
        (weights / "config.json").write_text(json.dumps({"torch_dtype": "float16"}))
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(state, folder / "weights.safetensors")
        made["safetensors"] = folder / "weights.safetensors"
        save_file(state, weights / "model.safetensors")
        made["model folder"] = weights
    except ImportError:
        pass
    return made


def _median_us(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def _bytes_read(path: Path, root: Path) -> int:
    from memlens.sizes import safe

    total = [0]
    original = os.pread

    def counting(fd, n, offset):
        data = original(fd, n, offset)
        total[0] += len(data)
        return data

    safe.os.pread = counting
    try:
        clear_cache()
        read_size(path, root)
    finally:
        safe.os.pread = original
    return total[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.0, help="file sizes (1.0: tens of MB)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="memlens-sizes-") as tmp:
        root = Path(tmp)
        made = _make(root, args.scale)
        for path in made.values():  # the first use imports pyarrow, h5py: not timed
            read_size(path, root)
        header = f"{'kind':<14}{'file':>11}{'os.stat':>10}{'cold':>11}{'cached':>9}" \
                 f"{'read':>11}  answer"
        print(header)
        print("-" * len(header))
        for kind, path in made.items():
            size = path.stat().st_size if path.is_file() else \
                sum(p.stat().st_size for p in path.iterdir())

            def cold(path=path):
                clear_cache()
                read_size(path, root)

            stat_us = _median_us(lambda path=path: os.stat(path), args.runs)
            cold_us = _median_us(cold, args.runs)
            read_size(path, root)
            cached_us = _median_us(lambda path=path: read_size(path, root), args.runs)
            answer = read_size(path, root)
            print(f"{kind:<14}{human_bytes(size):>11}{stat_us:>8.0f}us{cold_us:>9.0f}us"
                  f"{cached_us:>7.0f}us{human_bytes(_bytes_read(path, root)):>11}  "
                  f"{answer.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
