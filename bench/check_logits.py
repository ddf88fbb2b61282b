"""PyTorch reproduces curricula's logits from a saved checkpoint (used by bench/pipeline.ts --check-logits).

Usage: python3 bench/check_logits.py <docs/engine.md> <model.safetensors> <x.npy> <indices.npy> <logits.npy> <device>

Runs the nn.Module definitions of docs/engine.md (the block between the torch-modules markers),
loads model.safetensors with load_curricula_model, moves it to <device> (cpu, cuda, cuda:N), feeds
the rows of x.npy named by indices.npy (the positions curricula saved its logits for, in order) and
prints the largest absolute difference from logits.npy on the last stdout line. TF32 is turned off
on the PyTorch side, so the difference measures curricula against full float32 arithmetic.
"""
import re
import sys

import numpy as np
import torch


def documented_modules(docs_path):
    text = open(docs_path, encoding="utf8").read()
    match = re.search(r"<!-- torch-modules:start -->\s*```python\n(.*?)```\s*<!-- torch-modules:end -->", text, re.S)
    if not match:
        raise SystemExit(f"check_logits.py: {docs_path} has no python block between the torch-modules markers")
    return match.group(1)


def main():
    docs, model_path, x_path, indices_path, logits_path, device = sys.argv[1:7]
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"check_logits.py: device {device} asked for, but torch {torch.__version__} sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    namespace = {}
    exec(documented_modules(docs), namespace)
    model = namespace["load_curricula_model"](model_path).to(device)
    x = np.load(x_path)
    indices = np.load(indices_path).astype(np.int64)
    want = np.load(logits_path)
    got = []
    with torch.no_grad():
        for s in range(0, len(indices), 1024):
            batch = torch.from_numpy(np.ascontiguousarray(x[indices[s : s + 1024]])).to(device)
            got.append(model(batch).cpu().numpy())
    got = np.concatenate(got)
    if got.shape != want.shape:
        raise SystemExit(f"check_logits.py: logits of shape {got.shape}, saved {want.shape}")
    print(float(np.abs(got - want).max()), flush=True)


if __name__ == "__main__":
    main()
