"""PyTorch side of bench/images.ts: torchvision's ImageFolder and DataLoader doing the same work.

Usage: python3 bench/images_torch.py '<json config>'  (spawned by bench/images.ts)
Config: {"task": "decode", "folder", "channels": 1|3, "workers", "batch"}
        one pass over the folder through ImageFolder + DataLoader(num_workers) with ToTensor;
     or {"task": "epoch", "folder", "channels", "workers", "batch", "threads", "lr", "seed"}
        one training epoch of the packaged CNN with RandomCrop(size, padding=4) and
        RandomHorizontalFlip (CropFlip), Normalize with the train images' mean and std.
Prints one JSON line: {"seconds", "images"} (and "loss" for the epoch).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from PIL import Image  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402
from train_torch import cnn  # noqa: E402


def loader(channels):
    mode = "L" if channels == 1 else "RGB"

    def load(path):
        with open(path, "rb") as f:
            return Image.open(f).convert(mode)

    return load


def main():
    config = json.loads(sys.argv[1])
    torch.manual_seed(config.get("seed", 1))
    channels = config["channels"]
    if config["task"] == "decode":
        dataset = datasets.ImageFolder(config["folder"], transform=transforms.ToTensor(), loader=loader(channels))
        data = torch.utils.data.DataLoader(dataset, batch_size=config["batch"], num_workers=config["workers"])
        start = time.perf_counter()
        images = 0
        for x, _ in data:
            images += x.shape[0]
        print(json.dumps({"seconds": time.perf_counter() - start, "images": images}), flush=True)
        return
    torch.set_num_threads(config["threads"])
    probe = datasets.ImageFolder(config["folder"], loader=loader(channels))
    size = probe[0][0].size[::-1]  # (h, w)
    augment = transforms.Compose(
        [
            transforms.RandomCrop(size, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize([config["mean"]] * channels, [config["std"]] * channels),
        ]
    )
    dataset = datasets.ImageFolder(config["folder"], transform=augment, loader=loader(channels))
    data = torch.utils.data.DataLoader(
        dataset, batch_size=config["batch"], shuffle=True, num_workers=config["workers"], persistent_workers=False
    )
    model = cnn((size[0], size[1], channels), len(dataset.classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    images = 0
    total = 0.0
    for x, y in data:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        images += x.shape[0]
        total += loss.item() * x.shape[0]
    print(json.dumps({"seconds": time.perf_counter() - start, "images": images, "loss": total / images}), flush=True)


if __name__ == "__main__":
    main()
