"""PyTorch side of bench/pipeline.ts: the Fashion-MNIST pipeline with aucurriculum's algorithms.

Usage: python3 bench/pipeline_torch.py '<json config>'  (spawned by bench/pipeline.ts)
Config: {"data": folder of the gzipped IDX files, "work": folder holding train/dev/test_index.npy
         (row positions in the IDX files, the split curricula trained on), "epochs", "batch_size",
         "inference_batch_size", "learning_rate", "threads", "seed", "k", "max_embedding_size",
         optional "device": "cpu" (default), "cuda" or "cuda:N"}

As autrainer and aucurriculum do it: training saves a checkpoint per epoch and evaluates the dev set
after each epoch (the best epoch by dev accuracy is kept) and the test set at the end. Each scoring
function then loads its checkpoints and runs inference over the training images itself: CELoss the
best one, CumulativeAccuracy and FirstIteration every epoch's, PredictionDepth the best one with
forward hooks on the probes (input, conv0, conv1, linear0, linear1, softmax output), adaptive average
pooling to at most max_embedding_size values, and a brute-force k-NN per probe (knn_baseline.py's).
Progress goes to stderr; the last stdout line is one JSON object with the wall-clock and CPU seconds
of every stage (PredictionDepth's forward and k-NN phases: wall clock only).
"""
import gzip
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from knn_baseline import knn_torch  # noqa: E402
from train_torch import cnn  # noqa: E402

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def log(message):
    print(f"PyTorch: {message}", file=sys.stderr, flush=True)


def read_idx(folder, name):
    path = os.path.join(folder, name + ".gz")
    opener = gzip.open if os.path.exists(path) else open
    with opener(path if os.path.exists(path) else os.path.join(folder, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(config):
    images = read_idx(config["data"], FILES["train_images"])
    labels = read_idx(config["data"], FILES["train_labels"])
    test_images = read_idx(config["data"], FILES["test_images"])
    test_labels = read_idx(config["data"], FILES["test_labels"])

    device = config.get("device", "cpu")

    def subset(name, x, y):
        index = np.load(os.path.join(config["work"], f"{name}_index.npy")).astype(np.int64)
        return (
            torch.from_numpy(x[index].astype(np.float32) / 255.0).unsqueeze(1).to(device),  # N, 1, 28, 28
            torch.from_numpy(y[index].astype(np.int64)).to(device),
        )

    return {
        "train": subset("train", images, labels),
        "dev": subset("dev", images, labels),
        "test": subset("test", test_images, test_labels),
    }


def logits_of(model, x, batch):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[s : s + batch]) for s in range(0, x.shape[0], batch)])


def accuracy(model, data, batch):
    x, y = data
    return (logits_of(model, x, batch).argmax(dim=1) == y).double().mean().item()


def checkpoint_path(config, epoch):
    return os.path.join(config["work"], f"torch_epoch_{epoch}.pt")


def train(config, data):
    torch.manual_seed(config["seed"])
    model = cnn((28, 28, 1), 10).to(config.get("device", "cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    loss_fn = nn.CrossEntropyLoss()
    x, y = data["train"]
    generator = torch.Generator().manual_seed(config["seed"])
    best_epoch, best_accuracy = 0, -1.0
    for epoch in range(1, config["epochs"] + 1):
        model.train()
        order = torch.randperm(x.shape[0], generator=generator).to(x.device)
        b = config["batch_size"]
        for s in range(0, x.shape[0], b):
            index = order[s : s + b]
            optimizer.zero_grad()
            loss_fn(model(x[index]), y[index]).backward()
            optimizer.step()
        dev = accuracy(model, data["dev"], config["inference_batch_size"])
        torch.save(model.state_dict(), checkpoint_path(config, epoch))
        log(f"epoch {epoch}: dev accuracy {dev:.4f}")
        if dev > best_accuracy:
            best_epoch, best_accuracy = epoch, dev
    model.load_state_dict(torch.load(checkpoint_path(config, best_epoch), map_location=x.device))
    test = accuracy(model, data["test"], config["inference_batch_size"])
    return best_epoch, best_accuracy, test


def load_model(config, epoch):
    device = config.get("device", "cpu")
    model = cnn((28, 28, 1), 10).to(device)
    model.load_state_dict(torch.load(checkpoint_path(config, epoch), map_location=device))
    model.eval()
    return model


def ce_loss(config, data, best_epoch):
    x, y = data["train"]
    logits = logits_of(load_model(config, best_epoch), x, config["inference_batch_size"])
    return F.cross_entropy(logits, y, reduction="none").cpu().numpy()


def correctness(config, data, last_epoch):
    """Correct predictions on the training images per epoch 1..last_epoch, each from its checkpoint."""
    x, y = data["train"]
    return np.stack(
        [
            (logits_of(load_model(config, e), x, config["inference_batch_size"]).argmax(dim=1) == y).cpu().numpy()
            for e in range(1, last_epoch + 1)
        ]
    )


def cumulative_accuracy(config, data, best_epoch):
    return correctness(config, data, best_epoch).mean(axis=0)


def first_iteration(config, data, best_epoch):
    correct = correctness(config, data, config["epochs"])
    iterations = correct.shape[0]
    trailing = np.zeros(correct.shape[1], dtype=np.int64)
    still = np.ones(correct.shape[1], dtype=bool)
    for t in range(iterations - 1, -1, -1):
        still &= correct[t]
        trailing += still
    return (iterations - trailing) / iterations


def pool(out, limit):
    """Adaptive average pooling to at most `limit` values per sample (square spatial grids)."""
    if out.dim() == 2:
        if out.shape[1] <= limit:
            return out
        return F.adaptive_avg_pool1d(out.unsqueeze(1), limit).squeeze(1)
    c, h, w = out.shape[1:]
    side = min(h, w)
    while c * side * side > limit and side > 1:
        side -= 1
    return F.adaptive_avg_pool2d(out, (side, side)).flatten(1)


def prediction_depth(config, data, best_epoch):
    model = load_model(config, best_epoch)
    x, y = data["train"]
    captured = {}
    hooks = [
        model[i].register_forward_hook(lambda _m, _in, out, i=i: captured.__setitem__(i, out))
        for i in (0, 3, 7, 10)  # conv0, conv1, linear0, linear1 of train_torch.cnn
    ]
    limit = config["max_embedding_size"]
    batch = config["inference_batch_size"]
    start = time.perf_counter()
    probes = [[] for _ in range(6)]
    predicted = []
    with torch.no_grad():
        for s in range(0, x.shape[0], batch):
            xb = x[s : s + batch]
            logits = model(xb)
            predicted.append(logits.argmax(dim=1))
            outputs = [xb, captured[0], captured[3], captured[7], captured[10], F.softmax(logits, dim=1)]
            for p, out in enumerate(outputs):
                probes[p].append(pool(out, limit))
    for h in hooks:
        h.remove()
    predicted = torch.cat(predicted).cpu().numpy()
    embeddings = [torch.cat(p).contiguous().cpu().numpy() for p in probes]
    forward = time.perf_counter() - start
    start = time.perf_counter()
    labels = y.cpu().numpy()
    agree = []
    for p, emb in enumerate(embeddings):
        agree.append(knn_torch(emb, labels, config["k"], device=config.get("device", "cpu")) == predicted)
        log(f"k-NN probe {p} ({emb.shape[1]} dims) done")
    knn = time.perf_counter() - start
    agree = np.stack(agree)
    trailing = np.zeros(agree.shape[1], dtype=np.int64)
    still = np.ones(agree.shape[1], dtype=bool)
    for t in range(agree.shape[0] - 1, -1, -1):
        still &= agree[t]
        trailing += still
    return (agree.shape[0] - trailing) / agree.shape[0], forward, knn


def main():
    config = json.loads(sys.argv[1])
    torch.set_num_threads(int(config["threads"]))
    data = load_split(config)
    device = config.get("device", "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"pipeline_torch.py: device {device} asked for, but torch {torch.__version__} sees no CUDA device")
    log(
        f"training on {data['train'][0].shape[0]} images, {torch.get_num_threads()} threads, device {device}, torch {torch.__version__}"
    )
    wall, cpu = {}, {}
    start, cpu_start = time.perf_counter(), time.process_time()
    best_epoch, dev, test = train(config, data)
    wall["training"], cpu["training"] = time.perf_counter() - start, time.process_time() - cpu_start
    for name, fn in [
        ("CELoss", ce_loss),
        ("CumulativeAccuracy", cumulative_accuracy),
        ("FirstIteration", first_iteration),
        ("PredictionDepth", prediction_depth),
    ]:
        log(name)
        start, cpu_start = time.perf_counter(), time.process_time()
        result = fn(config, data, best_epoch)
        wall[name], cpu[name] = time.perf_counter() - start, time.process_time() - cpu_start
        if name == "PredictionDepth":
            _, wall["forward"], wall["knn"] = result
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "dev_accuracy": dev,
                "test_accuracy": test,
                "threads": torch.get_num_threads(),
                "device": device,
                "torch": torch.__version__,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
