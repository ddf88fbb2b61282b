#!/usr/bin/env bash
# The torch engine on an NVIDIA GPU, checked end to end in one command, with no network access:
#   1. checks what it needs (an NVIDIA driver and GPU, a python whose PyTorch has CUDA, a compiler,
#      Node 20+, an installed node_modules, Debian's Fashion-MNIST files) and stops at the first
#      thing missing, saying what it is;
#   2. builds the addon against that PyTorch's own libtorch (LIBTORCH_USE_PYTORCH=1), so it has CUDA;
#   3. runs the Fashion-MNIST pipeline (bench/pipeline.ts: the CNN trained, then CELoss,
#      CumulativeAccuracy, FirstIteration and PredictionDepth) with device=cuda, then PyTorch's
#      pipeline (bench/pipeline_torch.py) on the same GPU, and prints one table of both;
#   4. checks that PyTorch, given curricula's best model.safetensors, reproduces the dev logits that
#      curricula saved (--check-logits);
#   5. trains docs/models.md's TorchScript example (model=TorchScript) on the GPU.
#
#   bash bench/gpu-check.sh [--samples N] [--epochs E] [--device cuda:N] [--work DIR]
#
# PYTHON picks the python with CUDA PyTorch (default python3). Defaults: all 50,000 training images,
# 2 epochs, cuda:0, a temporary work folder. Exit code 0 only when every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."

samples=50000
epochs=2
device=cuda:0
work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --samples) samples="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

fail() { echo "gpu-check: $*" >&2; exit 1; }
step() { echo "gpu-check: $*"; }
start=$SECONDS

# 1. What the check needs, each missing piece named.
command -v nvidia-smi >/dev/null 2>&1 || fail "no NVIDIA driver: nvidia-smi is not on PATH"
gpus="$(nvidia-smi -L 2>/dev/null || true)"
[ -n "$gpus" ] || fail "nvidia-smi lists no GPU"
step "GPU: $(printf '%s' "$gpus" | head -n1)"
python="${PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || fail "python '$python' not found (set PYTHON to a python with CUDA PyTorch)"
probe="$("$python" -c 'import numpy, torch; print(torch.__version__, torch.version.cuda, int(torch.cuda.is_available()), torch.cuda.device_count())' 2>&1)" ||
  fail "$python cannot import torch and numpy: $probe"
read -r torch_version cuda_version cuda_ok cuda_count <<<"$probe"
[ "$cuda_version" != "None" ] || fail "$python has PyTorch $torch_version without CUDA (a CPU-only build); install a CUDA build of PyTorch"
[ "$cuda_ok" = "1" ] || fail "PyTorch $torch_version (CUDA $cuda_version) sees no usable GPU (driver too old for CUDA $cuda_version?)"
index="${device#cuda}"; index="${index#:}"; index="${index:-0}"
[ "$index" -lt "$cuda_count" ] || fail "device $device asked for, but PyTorch sees $cuda_count GPU(s)"
step "PyTorch $torch_version, CUDA $cuda_version, $cuda_count GPU(s) ($python)"
command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || fail "g++ and make are needed to build the addon (apt-get install g++ make)"
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))"
[ -d node_modules/node-addon-api ] && [ -d node_modules/typescript ] ||
  fail "node_modules is missing or incomplete: run 'npm ci' first (it needs the npm registry; this check does not)"
data=/usr/share/datasets/fashion-mnist
[ -e "$data/train-images-idx3-ubyte.gz" ] || [ -e "$data/train-images-idx3-ubyte" ] ||
  fail "Fashion-MNIST not found in $data (apt-get install dataset-fashion-mnist)"

# 2. The addon, against this PyTorch's libtorch.
step "building the torch engine against $python's libtorch"
LIBTORCH_USE_PYTORCH=1 PYTHON="$python" JOBS="$(nproc)" npm run --silent build:torch ||
  fail "the addon did not build against PyTorch's libtorch (see the compiler output above)"
npx tsc -p tsconfig.json || fail "the TypeScript build failed"
engines="$(node bin/curricula.js engines 2>&1)" || fail "curricula engines failed: $engines"
printf '%s\n' "$engines"
printf '%s' "$engines" | grep -q "cuda" || fail "the torch engine was built but lists no CUDA device"

# 3 and 4. Both pipelines on the GPU, one table, and the logits check.
args=(--engine torch --device "$device" --torch-device "$device" --samples "$samples" --epochs "$epochs" --check-logits)
[ -n "$work" ] && args+=(--work "$work")
step "pipeline on $device: ${samples} training images, ${epochs} epochs (curricula, then PyTorch)"
BENCH_PYTHON="$python" npm run --silent bench:pipeline -- "${args[@]}" || fail "the pipeline or the logits check failed (see above)"

# 5. A TorchScript module (docs/models.md's example) trained on the GPU: model=TorchScript device=cuda.
ts="$(mktemp -d)"
sed -n '/<!-- torchscript-model:start -->/,/<!-- torchscript-model:end -->/p' docs/models.md | sed '1,2d' | head -n -2 >"$ts/model.py"
(cd "$ts" && "$python" model.py) || fail "docs/models.md's example did not script (see above)"
step "a TorchScript module on $device (Digits, 3 epochs)"
(cd "$ts" && node "$OLDPWD/bin/curricula.js" --no-progress train model=TorchScript model.path=my_model.pt engine=torch \
  device="$device" dataset.shape=image iterations=3) || fail "training the TorchScript module on $device failed (see above)"
rm -rf "$ts"
step "passed in $((SECONDS - start)) s"
