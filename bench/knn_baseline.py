"""Brute-force k-NN baselines for bench/score.ts: numpy (BLAS) and PyTorch on the same embeddings.

Usage: python3 knn_baseline.py <embeddings.npy> <labels.npy> <k> <method: numpy|torch> <threads> <out.npy>
Prints one JSON line: {"seconds": ..., "max_rss_kb": ...}. Same rule as curricula's knnPredict:
squared euclidean distance via |a|^2 + |b|^2 - 2ab, k smallest, majority vote, ties -> lowest class.
"""
import json
import resource
import sys
import time

import numpy as np


def vote(neighbour_labels, num_classes):
    counts = np.zeros((neighbour_labels.shape[0], num_classes), dtype=np.int64)
    for c in range(num_classes):
        counts[:, c] = (neighbour_labels == c).sum(axis=1)
    return counts.argmax(axis=1)  # argmax returns the first (lowest) class on ties


def knn_numpy(x, y, k, block=1024):
    norms = (x.astype(np.float64) ** 2).sum(axis=1).astype(np.float32)
    num_classes = int(y.max()) + 1
    out = np.empty(x.shape[0], dtype=np.int64)
    for s in range(0, x.shape[0], block):
        q = x[s : s + block]
        d = norms[s : s + block, None] + norms[None, :] - 2.0 * (q @ x.T)
        idx = np.argpartition(d, k - 1, axis=1)[:, :k]
        out[s : s + block] = vote(y[idx], num_classes)
    return out


def knn_torch(x, y, k, block=1024, device="cpu"):
    import torch

    xt = torch.from_numpy(x).to(device)
    yt = torch.from_numpy(y.astype(np.int64)).to(device)
    norms = (xt.double() ** 2).sum(dim=1).float()
    num_classes = int(y.max()) + 1
    out = torch.empty(x.shape[0], dtype=torch.int64, device=device)
    with torch.no_grad():
        for s in range(0, x.shape[0], block):
            q = xt[s : s + block]
            d = norms[s : s + block, None] + norms[None, :] - 2.0 * (q @ xt.T)
            idx = d.topk(k, dim=1, largest=False).indices
            counts = torch.nn.functional.one_hot(yt[idx], num_classes).sum(dim=1)
            out[s : s + block] = counts.argmax(dim=1)
    return out.cpu().numpy()


def main():
    emb_path, labels_path, k, method, threads, out_path = sys.argv[1:7]
    x = np.load(emb_path).astype(np.float32)
    y = np.load(labels_path).astype(np.int64)
    k = int(k)
    if method == "torch":
        import torch

        torch.set_num_threads(int(threads))
    start = time.perf_counter()
    pred = knn_torch(x, y, k) if method == "torch" else knn_numpy(x, y, k)
    seconds = time.perf_counter() - start
    np.save(out_path, pred.astype(np.int32))
    print(json.dumps({"seconds": seconds, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


if __name__ == "__main__":
    main()
