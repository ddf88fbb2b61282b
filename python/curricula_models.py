"""PyTorch modules of curricula's built-in models (FFNN, CNN, ResCNN, AudioCNN).

A curricula checkpoint (`model.safetensors`, written by either engine) holds the parameters and
buffers with PyTorch's names and layouts; these modules load it with
`load_state_dict(strict=True)` and reproduce curricula's logits within 1e-4. Only torch is needed
(the safetensors package is not: `load_safetensors` reads the format itself).

    from curricula_models import load_run
    model, class_names = load_run("results/default/training/<run>")   # its _best/ model, eval mode
    probabilities = model(x).softmax(1)   # x: float32 [batch, *input_shape], as curricula's datasets give it
    print(class_names[int(probabilities[0].argmax())])

curricula's inputs are channels-last: images arrive as [batch, h, w, c] (or flat), log-mel spectrograms
as [batch, frames, mels]; the modules reshape and permute them to NCHW themselves, and flatten in
(h, w, c) order (the weights stay in PyTorch's layout). The file ships in the curricula package
(`node_modules/curricula/python/curricula_models.py`); copy it, or put its folder on PYTHONPATH.
"""

import json
import os
import struct

import torch
from torch import nn


def load_safetensors(path):
    """(tensors, metadata) of a safetensors file; safetensors.torch.load_file(path) gives the same tensors."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    dtypes = {"F32": torch.float32, "I64": torch.int64}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, header.get("__metadata__", {})


def image_shape(input_shape):
    """curricula's [h, w, c] for an input shape: as is, [h, w] -> [h, w, 1], a flat square n -> [s, s, 1]."""
    if len(input_shape) == 3:
        return tuple(input_shape)
    if len(input_shape) == 2:
        return (input_shape[0], input_shape[1], 1)
    side = round(input_shape[0] ** 0.5)
    return (side, side, 1)


def to_nchw(x, shape):
    """curricula's inputs are channels-last ([batch, h, w, c], or flat); PyTorch's convs want NCHW."""
    return x.reshape(x.shape[0], *shape).permute(0, 3, 1, 2)


def flatten_hwc(x):
    """curricula flattens channels-last (h, w, c order), so NCHW goes back to NHWC before flattening."""
    return x.permute(0, 2, 3, 1).flatten(1)


def pool2(h, w):
    """2x2 max-pooling, 1 along an axis that is 1 wide; returns the layer and the output size."""
    kh, kw = min(2, h), min(2, w)
    return nn.MaxPool2d((kh, kw)), (h - kh) // kh + 1, (w - kw) // kw + 1


class FFNN(nn.Module):
    def __init__(self, input_shape, output_dim, hidden_sizes=(64,), dropout=0.5):
        super().__init__()
        sizes = [int(torch.tensor(input_shape).prod()), *hidden_sizes]
        self.depth = len(hidden_sizes)
        for i in range(self.depth):
            setattr(self, f"linear{i}", nn.Linear(sizes[i], sizes[i + 1]))
        setattr(self, f"linear{self.depth}", nn.Linear(sizes[-1], output_dim))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = x.flatten(1)
        for i in range(self.depth):
            x = self.dropout(torch.relu(getattr(self, f"linear{i}")(x)))
        return getattr(self, f"linear{self.depth}")(x)


class CNN(nn.Module):
    def __init__(self, input_shape, output_dim, channels=(32, 64), hidden=128, dropout=0.25):
        super().__init__()
        self.shape = image_shape(input_shape)
        h, w, c = self.shape
        self.blocks = len(channels)
        for i, width in enumerate(channels):
            setattr(self, f"conv{i}", nn.Conv2d(c, width, 3, padding=1))
            pool, h, w = pool2(h, w)
            setattr(self, f"pool{i}", pool)
            c = width
        self.linear0 = nn.Linear(h * w * c, hidden)
        self.dropout0 = nn.Dropout(dropout)
        self.linear1 = nn.Linear(hidden, output_dim)

    def forward(self, x):
        x = to_nchw(x, self.shape)
        for i in range(self.blocks):
            x = getattr(self, f"pool{i}")(torch.relu(getattr(self, f"conv{i}")(x)))
        x = torch.relu(self.linear0(flatten_hwc(x)))
        return self.linear1(self.dropout0(x))


class ResCNN(nn.Module):
    def __init__(self, input_shape, output_dim, channels=(32, 32, 64)):
        super().__init__()
        self.shape = image_shape(input_shape)
        h, w, c = self.shape
        stem, w1, w2 = channels
        self.conv0 = nn.Conv2d(c, stem, 3, padding=1)
        self.bn0 = nn.BatchNorm2d(stem)
        self.pool0, h, w = pool2(h, w)
        self._block("block1", stem, w1)
        self.pool1, h, w = pool2(h, w)
        self._block("block2", w1, w2)
        self.linear0 = nn.Linear(w2, output_dim)

    def _block(self, name, width_in, width_out):
        setattr(self, f"{name}_conv0", nn.Conv2d(width_in, width_out, 3, padding=1))
        setattr(self, f"{name}_bn0", nn.BatchNorm2d(width_out))
        setattr(self, f"{name}_conv1", nn.Conv2d(width_out, width_out, 3, padding=1))
        setattr(self, f"{name}_bn1", nn.BatchNorm2d(width_out))
        if width_in != width_out:
            setattr(self, f"{name}_shortcut", nn.Conv2d(width_in, width_out, 1))
            setattr(self, f"{name}_shortcut_bn", nn.BatchNorm2d(width_out))

    def _run_block(self, name, x):
        layer = lambda suffix: getattr(self, f"{name}_{suffix}")
        h = torch.relu(layer("bn0")(layer("conv0")(x)))
        h = layer("bn1")(layer("conv1")(h))
        shortcut = layer("shortcut_bn")(layer("shortcut")(x)) if hasattr(self, f"{name}_shortcut") else x
        return torch.relu(h + shortcut)

    def forward(self, x):
        x = to_nchw(x, self.shape)
        x = self.pool0(torch.relu(self.bn0(self.conv0(x))))
        x = self.pool1(self._run_block("block1", x))
        x = self._run_block("block2", x)
        return self.linear0(x.mean((2, 3)))


class AudioCNN(nn.Module):
    def __init__(self, input_shape, output_dim, channels=(16, 32, 64), dropout=0.2):
        super().__init__()
        self.shape = (input_shape[0], input_shape[1], 1)
        h, w, c = self.shape
        self.blocks = len(channels)
        for i, width in enumerate(channels):
            setattr(self, f"conv{i}", nn.Conv2d(c, width, 3, padding=1))
            setattr(self, f"bn{i}", nn.BatchNorm2d(width))
            pool, h, w = pool2(h, w)
            setattr(self, f"pool{i}", pool)
            c = width
        self.dropout0 = nn.Dropout(dropout)
        self.linear0 = nn.Linear(c, output_dim)

    def forward(self, x):
        x = to_nchw(x, self.shape)
        for i in range(self.blocks):
            x = getattr(self, f"pool{i}")(torch.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x))))
        return self.linear0(self.dropout0(x.mean((2, 3))))


def load_checkpoint(path):
    """(module in eval mode, class names or None, metadata) of a curricula model.safetensors.

    The class names are the dataset's, in code order (logit k is class_names[k]); checkpoints of
    releases before they were recorded give None.
    """
    tensors, metadata = load_safetensors(path)
    spec = json.loads(metadata["spec"])
    models = {"FFNN": FFNN, "CNN": CNN, "ResCNN": ResCNN, "AudioCNN": AudioCNN}
    if spec["type"] not in models:
        raise ValueError(f"{path}: model type {spec['type']!r} is none of {', '.join(models)}")
    model = models[spec["type"]](spec["inputShape"], spec["outputDim"], **spec["params"])
    model.load_state_dict(tensors, strict=True)
    class_names = json.loads(metadata["class_names"]) if "class_names" in metadata else None
    return model.eval(), class_names, metadata


def load_curricula_model(path):
    """The nn.Module of a curricula model.safetensors, weights loaded, in eval mode."""
    return load_checkpoint(path)[0]


def load_run(run_dir, checkpoint="_best"):
    """(module in eval mode, class names) of a curricula run folder.

    `checkpoint` is the folder inside the run whose model.safetensors is loaded: "_best" (the model
    the run tested), or "epoch_N" / "step_N" where the run kept that checkpoint.
    """
    path = os.path.join(run_dir, checkpoint, "model.safetensors")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no model here (a finished curricula run folder has _best/model.safetensors)")
    model, class_names, _ = load_checkpoint(path)
    return model, class_names
