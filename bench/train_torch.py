"""PyTorch baseline for bench/train.ts: the same architectures, batch sizes and optimiser.

Usage: python3 bench/train_torch.py '<json config>'  (spawned by bench/train.ts)
Config: {"seconds": float, "threads": int, "cases": [{"model": "CNN"|"FFNN", "batch": int,
         "inferBatch": int, "inputShape": [...], "outputDim": int, "lr": float}]}
Prints one JSON line per case: {"model", "trainSamplesPerSec", "inferSamplesPerSec", "trainSteps",
"trainCpuShare", "inferCpuShare"} (CPU share: process CPU time / wall time, up to the thread count).
"""
import json
import sys
import time

t0 = time.perf_counter()
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

IMPORT_MS = (time.perf_counter() - t0) * 1000


def cnn(shape, out_dim):
    h, w, c = shape
    flat = 64 * (h // 2 // 2) * (w // 2 // 2)
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, out_dim))


def ffnn(shape, out_dim):
    return nn.Sequential(nn.Linear(shape[0], 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, out_dim))


def run(case, seconds):
    shape = case["inputShape"]
    model = cnn(shape, case["outputDim"]) if case["model"] == "CNN" else ffnn(shape, case["outputDim"])
    # NCHW for convolutions; the data is generated in that layout directly.
    in_shape = (shape[2], shape[0], shape[1]) if case["model"] == "CNN" else tuple(shape)
    opt = torch.optim.Adam(model.parameters(), lr=case["lr"])
    lossf = nn.CrossEntropyLoss()
    n = 1024
    X = torch.randn(n, *in_shape)
    Y = torch.randint(0, case["outputDim"], (n,))
    b = case["batch"]

    def step(i):
        s = (i * b) % (n - b + 1)
        opt.zero_grad()
        loss = lossf(model(X[s:s + b]), Y[s:s + b])
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    for i in range(5):
        step(i)
    steps, start, cpu0, el = 0, time.perf_counter(), time.process_time(), 0.0
    while el < seconds or steps < 5:
        step(steps)
        steps += 1
        el = time.perf_counter() - start
    train_sps = steps * b / el
    train_cpu = (time.process_time() - cpu0) / el
    model.eval()
    ib = case["inferBatch"]
    with torch.no_grad():
        for i in range(3):
            model(X[:ib]).numpy()
        k, start, cpu0, el = 0, time.perf_counter(), time.process_time(), 0.0
        while el < seconds / 2 or k < 5:
            s = (k * ib) % (n - ib + 1)
            model(X[s:s + ib]).numpy()
            k += 1
            el = time.perf_counter() - start
    infer_sps = k * ib / el
    infer_cpu = (time.process_time() - cpu0) / el
    return {"model": case["model"], "trainSamplesPerSec": train_sps, "inferSamplesPerSec": infer_sps,
            "trainSteps": steps, "trainCpuShare": train_cpu, "inferCpuShare": infer_cpu}


def main():
    config = json.loads(sys.argv[1])
    torch.set_num_threads(int(config.get("threads", 2)))
    torch.manual_seed(0)
    print(json.dumps({"engine": f"pytorch-{torch.__version__}", "threads": torch.get_num_threads(), "importMs": round(IMPORT_MS)}), flush=True)
    for case in config["cases"]:
        print(json.dumps(run(case, float(config["seconds"]))), flush=True)


if __name__ == "__main__":
    main()
