"""A complete PyTorch training loop on scikit-learn's digits that records its logits for curricula.

    npx curricula import split --dataset Digits --write-split      # the split curricula uses
    python3 train_digits.py --split split --out runs/seed1 --seed 1 --epochs 5
    npx curricula import runs/seed1 --format npy --dataset Digits seed=1

The features are the vendored data/sklearn/digits.csv.gz (64 pixel values 0..16 and the label per
row), so a sample's id, the row of that file (0-based), is the dataset's source_index. The split
folder holds, per subset, the ids (ids.npy) and labels (targets.npy) of curricula's split.
"""

import argparse
import gzip
import os

import numpy as np
import torch
from torch import nn

from record import Recorder

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "data", "sklearn", "digits.csv.gz")


def load_digits(path):
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", required=True, help="folder written by `curricula import <dir> --write-split`")
    parser.add_argument("--out", required=True, help="folder to record the run into (npy format)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--data", default=DIGITS, help="digits.csv.gz (default: the vendored copy)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    features, labels = load_digits(args.data)
    splits = {}
    for name in ("train", "dev", "test"):
        ids = np.load(os.path.join(args.split, name, "ids.npy")).astype(np.int64)
        if not np.array_equal(labels[ids], np.load(os.path.join(args.split, name, "targets.npy"))):
            raise SystemExit(f"{args.split}/{name}: the labels differ from {args.data}'s: another dataset?")
        splits[name] = (torch.from_numpy(ids), torch.from_numpy(features[ids]), torch.from_numpy(labels[ids]))

    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    recorder = Recorder(args.out)
    _, x_train, y_train = splits["train"]
    order = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in torch.randperm(len(y_train), generator=order).split(32):
            optimizer.zero_grad()
            loss = criterion(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            for name, (ids, x, y) in splits.items():
                recorder.log(name, epoch, ids, model(x), y)
        print(f"epoch {epoch}: train loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
