"""Records a PyTorch training loop's per-sample logits in the `npy` format `curricula import` reads.

    from record import Recorder
    recorder = Recorder("runs/seed1")
    ...after each epoch, for each subset (train, and dev and test if you have them):
    recorder.log("train", epoch, ids, logits, targets)

writes runs/seed1/<split>/ids.npy, targets.npy and epoch_<k>.npy (float32 logits [N, C], k = 1 ... T).
`ids` are the dataset's source_index of each row (docs/import.md says what they are for each
dataset); rows may come in any order and are stored sorted by id, so every epoch has the same rows
in the same order. Depends on numpy and torch only.
"""

import os

import numpy as np
import torch

SPLITS = ("train", "dev", "test")


def _numpy(values, dtype):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(values), dtype=dtype)


def _save(path, array):
    """Writes a .npy file atomically (a temporary file, then a rename)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        np.save(f, array)
    os.replace(tmp, path)


class Recorder:
    """Writes the logits of every evaluated epoch of one run into `out_dir`."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self._rows = {}  # split -> (ids, targets) of the first logged epoch

    def log(self, split, epoch, ids, logits, targets):
        """Records the logits [N, C] of the N samples `ids` (with their `targets`) at `epoch` (1, 2, ...)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if int(epoch) < 1:
            raise ValueError(f"epochs are numbered from 1, got {epoch}")
        ids = _numpy(ids, np.int64)
        targets = _numpy(targets, np.int64)
        logits = _numpy(logits, np.float32)
        if logits.ndim != 2 or logits.shape[0] != ids.shape[0] or targets.shape != ids.shape:
            raise ValueError(
                f"{split} epoch {epoch}: {ids.shape[0]} ids, {targets.shape[0]} targets and logits of shape "
                f"{logits.shape}: expected one row of logits per id"
            )
        if not np.isfinite(logits).all():
            raise ValueError(f"{split} epoch {epoch}: non-finite logits (the run diverged)")
        order = np.argsort(ids, kind="stable")
        ids, targets, logits = ids[order], targets[order], logits[order]
        if len(np.unique(ids)) != len(ids):
            raise ValueError(f"{split} epoch {epoch}: an id appears twice")
        folder = os.path.join(self.out_dir, split)
        os.makedirs(folder, exist_ok=True)
        first = self._rows.get(split)
        if first is None:
            self._rows[split] = (ids, targets)
            _save(os.path.join(folder, "ids.npy"), ids)
            _save(os.path.join(folder, "targets.npy"), targets)
        elif not (np.array_equal(first[0], ids) and np.array_equal(first[1], targets)):
            raise ValueError(f"{split} epoch {epoch}: other rows or targets than the first logged epoch")
        _save(os.path.join(folder, f"epoch_{int(epoch)}.npy"), logits)
