/**
 * Issue 20 (points 1 and 3) with the built CLI: the small residual network of docs/models.md,
 * scripted by PyTorch (torch.jit.script), trained with `model=TorchScript engine=torch` on Digits'
 * 8×8 images: accuracy, identical reruns, exact resume after a SIGKILL, the checkpoint loaded back
 * into the Python module; the errors for a file that is no module, the wasm engine and a module
 * that does not fit the data; TransferTeacher from a TorchScript teacher and from `features: .npy`;
 * (issue 20 point 2) start weights from a PyTorch state_dict, frozen parameters, a wrong-shaped
 * tensor and a replaced head.
 * `npm test` builds dist first.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compareResults } from "../../scripts/results-compare.mjs";
import { buildForRun } from "../../src/assembly/train-run.js";
import { decodeSafeTensors } from "../../src/engine/safetensors.js";
import { readRunConfig } from "../../src/results/run-folder.js";
import { fileSha256 } from "../../src/util/fingerprint.js";
import { loadNpy, saveNpy } from "../../src/util/npy.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { expectClose } from "../support/assert.js";
import { BIN, runCli } from "../support/cli.js";
import { groupPids, waitFor } from "../support/processes.js";
import { tempProject } from "../support/project.js";
import { pytorch, TORCH_PYTHON } from "../support/python.js";
import { describeWith, type SystemDependency } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

const DOCS = new URL("../../docs/models.md", import.meta.url);
const RUN = "Digits_TorchScript_Adam_0.001_32_epoch_10_None_None_N_N_None_None_1_0_1";
const DIGITS_IMAGE = readFileSync(new URL("../../configs/dataset/Digits.yaml", import.meta.url), "utf8")
  .replace(/^id: Digits$/m, "id: DigitsImage")
  .replace(/^shape: flat.*$/m, "shape: image");

/** The python block between the torchscript-model markers of docs/models.md. */
function documentedModel(): string {
  const match =
    /<!-- torchscript-model:start -->\s*```python\n([\s\S]*?)```\s*<!-- torchscript-model:end -->/.exec(
      readFileSync(DOCS, "utf8"),
    );
  if (!match?.[1])
    throw new Error("docs/models.md has no python block between the torchscript-model markers");
  return match[1];
}

function both(a: SystemDependency, b: SystemDependency): SystemDependency {
  return { name: `${a.name}; ${b.name}`, problem: a.problem ?? b.problem };
}

/** Runs python code in `cwd` with arguments; fails the test with its stderr when it fails. */
function py(code: string, args: readonly string[], cwd: string): string {
  const r = spawnSync(TORCH_PYTHON as string, ["-c", code, ...args], { cwd, encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Files under a folder (relative paths); none when it does not exist. */
function filesOf(dir: string, rel = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    return entry.isDirectory() ? filesOf(join(dir, entry.name), path) : [path];
  });
}

const roots: string[] = [];
function project(): string {
  const dir = tempProject({ "conf/dataset/DigitsImage.yaml": DIGITS_IMAGE });
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describeWith(both(torchEngine, pytorch), "TorchScript modules on the torch engine (docs/models.md)", () => {
  let models = "";
  let model = "";
  const train = (extra: readonly string[] = []) => [
    "--no-progress",
    "train",
    "model=TorchScript",
    `model.path=${model}`,
    "engine=torch",
    "threads=2",
    "dataset.shape=image",
    "iterations=10",
    "seed=1",
    ...extra,
  ];
  const reference = project();
  const runDir = join(reference, "results", "default", "training", RUN);

  beforeAll(() => {
    models = project();
    // The documented block writes my_model.pt; a second module of 7 classes does not fit Digits.
    writeFileSync(join(models, "model.py"), documentedModel());
    py("import runpy\nrunpy.run_path('model.py', run_name='__main__')", [], models);
    py(
      'import torch\nfrom model import SmallResNet\ntorch.jit.script(SmallResNet(classes=7)).save("seven.pt")',
      [],
      models,
    );
    writeFileSync(join(models, "bad.pt"), "this is no TorchScript module\n");
    model = join(models, "my_model.pt");
  });

  it("trains to >= 0.90 test accuracy on Digits, twice with identical results", () => {
    const first = runCli(train(), reference);
    expect(first.code, first.stderr).toBe(0);
    const test = readYaml<{ accuracy: { all: number } }>(join(runDir, "_test", "test_holistic.yaml"));
    expect(test.accuracy.all).toBeGreaterThanOrEqual(0.9);
    const again = project();
    const second = runCli(train(), again);
    expect(second.code, second.stderr).toBe(0);
    expect(readFileSync(join(again, "results", "default", "training", RUN, "metrics.csv"), "utf8")).toBe(
      readFileSync(join(runDir, "metrics.csv"), "utf8"),
    );
    expect(compareResults(join(reference, "results"), join(again, "results")).differences).toEqual([]);
  }, 300_000);

  it("resumes exactly after a SIGKILL", async () => {
    expect(existsSync(join(runDir, "metrics.csv")), "the reference run finished").toBe(true);
    const cwd = project();
    const killed = join(cwd, "results", "default", "training", RUN);
    const child: ChildProcess = spawn(process.execPath, [BIN, ...train()], {
      cwd,
      detached: true,
      stdio: "ignore",
      env: { ...process.env, CI: "1" },
    });
    const pgid = child.pid as number;
    await waitFor(
      () => existsSync(join(killed, "epoch_3", "model.safetensors")) || child.exitCode !== null,
      120_000,
      "epoch 3's checkpoint",
    );
    expect(child.exitCode, "the run was still training when killed").toBeNull();
    process.kill(-pgid, "SIGKILL");
    await waitFor(() => groupPids(pgid).length === 0, 60_000, `process group ${pgid} to be gone`);
    expect(existsSync(join(killed, "metrics.csv"))).toBe(false);
    const resumed = runCli(train(), cwd);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(compareResults(join(reference, "results"), join(cwd, "results")).differences).toEqual([]);
  }, 300_000);

  it("PyTorch loads _best/model.safetensors into the module and reproduces the dev logits within 1e-4", async () => {
    const { dataset } = await buildForRun(readRunConfig(runDir));
    const positions = loadNpy(join(runDir, "_best", "dev_indices.npy")).data as Int32Array;
    const { x } = dataset.subset("dev").batch(positions);
    saveNpy(join(models, "dev_x.npy"), x, [positions.length, ...dataset.featureShape]);
    const out = py(
      `
import json, struct, sys
import numpy as np
import torch
from model import SmallResNet
with open(sys.argv[1], "rb") as f:
    size = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(size))
    data = f.read()
dtypes = {"F32": torch.float32, "I64": torch.int64}
tensors = {}
for name, entry in header.items():
    if name == "__metadata__":
        continue
    begin, end = entry["data_offsets"]
    tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).clone()
net = SmallResNet()
net.load_state_dict(tensors, strict=True)
x = torch.from_numpy(np.load(sys.argv[2])).permute(0, 3, 1, 2)
with torch.no_grad():
    logits = net.eval()(x).numpy()
want = np.load(sys.argv[3])
print(json.dumps({"rows": int(logits.shape[0]), "diff": float(np.abs(logits - want).max()), "names": len(tensors)}))
`,
      [join(runDir, "_best", "model.safetensors"), "dev_x.npy", join(runDir, "_best", "dev_outputs.npy")],
      models,
    );
    const result = JSON.parse(out.trim().split("\n").at(-1) as string) as {
      rows: number;
      diff: number;
      names: number;
    };
    expect(result.rows).toBe(positions.length);
    expect(result.diff).toBeLessThan(1e-4);
  }, 120_000);

  it("PredictionDepth probes the module's submodules and embeddings; GraNd reads its embeddings", () => {
    const r = runCli(
      [
        "--no-progress",
        "curriculum",
        "curriculum/scoring=PredictionDepth",
        `curriculum.scoring.run_name=${RUN}`,
        "curriculum.scoring.probe_placements=[stem,block1,block2,embeddings]",
      ],
      reference,
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(
      join(reference, "results", "default", "curriculum", "PredictionDepth", "PredictionDepth.csv"),
      "utf8",
    )
      .trim()
      .split("\n");
    expect(rows.length - 1).toBe(1079);
    const grand = runCli(
      ["--no-progress", "curriculum", "curriculum/scoring=GraNd", `curriculum.scoring.run_name=${RUN}`],
      reference,
    );
    expect(grand.code, grand.stderr).toBe(0);
    const values = readFileSync(
      join(reference, "results", "default", "curriculum", "GraNd", "GraNd.csv"),
      "utf8",
    )
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => Number(line.split(",")[2]));
    expect(values.length).toBe(1079);
    expect(values.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
  }, 120_000);

  it("a file that is no TorchScript module: one clear error, exit 1, nothing under training/", () => {
    const cwd = project();
    const bad = join(models, "bad.pt");
    const r = runCli(train([`model.path=${bad}`]), cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad} (model.path): not a TorchScript module that torch.jit.load reads`);
    expect(filesOf(join(cwd, "results", "default", "training"))).toEqual([]);
    const missing = runCli(train([`model.path=${join(models, "missing.pt")}`]), cwd);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `model.path: ${join(models, "missing.pt")} does not exist or is no file`,
    );
    expect(filesOf(join(cwd, "results", "default", "training"))).toEqual([]);
  }, 120_000);

  it("a finished run is not reused once its module file changed", () => {
    const cwd = project();
    const file = join(cwd, "module.pt");
    copyFileSync(model, file);
    const args = train([`model.path=${file}`, "iterations=1"]);
    const first = runCli(args, cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(runCli(args, cwd).stderr).toContain("finished");
    copyFileSync(join(models, "seven.pt"), file);
    const changed = runCli(args, cwd);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(`the finished run trained on ${file} (SHA-256 `);
  }, 120_000);

  it("the wasm engine refuses a TorchScript model and says to use engine=torch", () => {
    const cwd = project();
    const r = runCli(train(["engine=wasm"]), cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("TorchScript models run on the torch engine only");
    expect(r.stderr).toContain("use engine=torch");
    expect(filesOf(join(cwd, "results", "default", "training"))).toEqual([]);
  }, 120_000);

  it("a module that does not fit the data: one error naming the file, the input shape and what it returned", () => {
    const cwd = project();
    const flat = runCli(train(["dataset.shape=flat"]), cwd);
    expect(flat.code).toBe(1);
    expect(flat.stderr).toContain(
      `${model}: forward(x) fails on the dataset's input, float32 of shape [2, 64]: RuntimeError: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 64]`,
    );
    const seven = join(models, "seven.pt");
    const classes = runCli(train([`model.path=${seven}`]), cwd);
    expect(classes.code).toBe(1);
    expect(classes.stderr).toContain(
      `${seven}: forward(x) on input [2, 1, 8, 8] returns shape [2, 7], expected [2, 10] (the dataset has 10 classes)`,
    );
    expect(filesOf(join(cwd, "results", "default", "training"))).toEqual([]);
  }, 120_000);

  it("TransferTeacher scores with a TorchScript teacher and with its embeddings as features: .npy", async () => {
    const score = (cwd: string, key: string) =>
      runCli(
        [
          "--no-progress",
          "curriculum",
          "curriculum/scoring=TransferTeacher",
          key,
          "curriculum.scoring.dataset=DigitsImage",
        ],
        cwd,
      );
    const teacherProject = project();
    const teacher = score(teacherProject, `curriculum.scoring.model=${model}`);
    expect(teacher.code, teacher.stderr).toBe(0);
    // The same embeddings computed by PyTorch, rows in ascending source_index order.
    const { dataset } = await buildForRun(readRunConfig(runDir));
    const subset = dataset.subset("train");
    const order = Int32Array.from(
      Array.from(subset.sourceIndex.keys()).sort(
        (a, b) => (subset.sourceIndex[a] as number) - (subset.sourceIndex[b] as number),
      ),
    );
    saveNpy(join(models, "train_x.npy"), subset.batch(order).x, [subset.size, ...dataset.featureShape]);
    py(
      `
import sys
import numpy as np
import torch
m = torch.jit.load("my_model.pt").eval()
with torch.no_grad():
    e = m.embeddings(torch.from_numpy(np.load("train_x.npy")).permute(0, 3, 1, 2).contiguous())
np.save("features.npy", e.numpy().astype(np.float32))
f = e.numpy().astype(np.float32)
np.save("short.npy", f[:-1])
f[5, 3] = np.nan
np.save("nan.npy", f)
`,
      [],
      models,
    );
    const featuresProject = project();
    const fromFeatures = score(
      featuresProject,
      `curriculum.scoring.features=${join(models, "features.npy")}`,
    );
    expect(fromFeatures.code, fromFeatures.stderr).toBe(0);
    const column = (cwd: string) => {
      const lines = readFileSync(
        join(cwd, "results", "default", "curriculum", "TransferTeacher", "TransferTeacher.csv"),
        "utf8",
      )
        .trim()
        .split("\n");
      const header = (lines[0] as string).split(",");
      const source = header.indexOf("source_index");
      const mean = header.indexOf("mean");
      return lines
        .slice(1)
        .map((l) => l.split(","))
        .map((c) => [Number(c[source]), Number(c[mean])] as const);
    };
    const a = column(teacherProject);
    const b = column(featuresProject);
    expect(a.length).toBe(subset.size);
    expect(b.map(([s]) => s)).toEqual(a.map(([s]) => s));
    expectClose(
      b.map(([, v]) => v),
      a.map(([, v]) => v),
      "TransferTeacher's scores from features.npy against the TorchScript teacher's",
      1e-3,
      1e-3,
    );
    const short = score(project(), `curriculum.scoring.features=${join(models, "short.npy")}`);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain(
      `${join(models, "short.npy")} (curriculum.scoring.features): ${subset.size - 1} rows, the scored subset has ${subset.size} samples`,
    );
    const nan = score(project(), `curriculum.scoring.features=${join(models, "nan.npy")}`);
    expect(nan.code).toBe(1);
    expect(nan.stderr).toContain(
      `${join(models, "nan.npy")} (curriculum.scoring.features): row 5, column 3 is NaN; every value must be finite`,
    );
  }, 300_000);
});

describeWith(
  both(torchEngine, pytorch),
  "TorchScript modules from a PyTorch state_dict (model.weights, model.freeze)",
  () => {
    let dir = "";
    const file = (name: string) => join(dir, name);
    const run = (cwd: string, extra: readonly string[]) =>
      runCli(
        [
          "--no-progress",
          "train",
          "model=TorchScript",
          `model.path=${file("net.pt")}`,
          "engine=torch",
          "threads=2",
          "iterations=2",
          "seed=1",
          // AdamW: its weight decay must leave the frozen tensors alone too.
          "optimizer=AdamW",
          ...extra,
        ],
        cwd,
      );
    const runFolder = (cwd: string): string => {
      const training = join(cwd, "results", "default", "training");
      const [name] = readdirSync(training).filter((entry) => !entry.startsWith("."));
      return join(training, name as string);
    };
    const tensorsOf = (path: string) => decodeSafeTensors(readFileSync(path), path).tensors;
    const bytes = (path: string, name: string) => {
      const t = tensorsOf(path).get(name);
      if (!t) throw new Error(`${path} has no tensor ${name}`);
      const data = t.data as Float32Array;
      return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    };

    beforeAll(() => {
      dir = project();
      // A backbone and a head; the state_dicts are written in the safetensors layout
      // (safetensors.torch.save_file's; the package itself is not needed).
      writeFileSync(
        join(dir, "net.py"),
        `
import json, struct, torch
from torch import nn

class Net(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        return self.head(self.backbone(x))

def save_file(tensors, path):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().float().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(chunks))

torch.manual_seed(0)
torch.jit.script(Net()).save("net.pt")
torch.manual_seed(1)
save_file(Net().state_dict(), "pretrained.safetensors")
torch.manual_seed(2)
save_file(Net(classes=7).state_dict(), "head7.safetensors")
`,
      );
      // torch.jit.script reads the module's source, so the code runs from a file.
      py("import runpy\nrunpy.run_path('net.py', run_name='__main__')", [], dir);
    });

    it("starts from the state_dict; frozen tensors stay bit-identical in epoch_N/ and _best/, the others train", () => {
      const cwd = project();
      const weights = file("pretrained.safetensors");
      const r = run(cwd, [`model.weights=${weights}`, "model.freeze=[backbone.]"]);
      expect(r.code, r.stderr).toBe(0);
      const folder = runFolder(cwd);
      for (const checkpoint of ["epoch_1", "epoch_2", "_best"]) {
        const saved = join(folder, checkpoint, "model.safetensors");
        for (const name of ["backbone.0.weight", "backbone.0.bias"])
          expect(bytes(saved, name), `${checkpoint} ${name}`).toEqual(bytes(weights, name));
        for (const name of ["head.weight", "head.bias"])
          expect(bytes(saved, name), `${checkpoint} ${name}`).not.toEqual(bytes(weights, name));
      }
      const config = readYaml<{ model: Record<string, unknown> }>(join(folder, "config.yaml"));
      expect(config.model.weights_sha256).toBe(fileSha256(weights));
      expect(readFileSync(join(folder, "training.log"), "utf8")).toContain(
        "Frozen: backbone.0.weight, backbone.0.bias",
      );
    }, 120_000);

    it("a wrong-shaped tensor: one error naming the file, the tensor and both shapes, exit 1, nothing written", () => {
      const cwd = project();
      const weights = file("head7.safetensors");
      const r = run(cwd, [`model.weights=${weights}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `${weights}: tensor 'head.weight' has shape [7, 32], model TorchScript ${file("net.pt")} expects [10, 32]`,
      );
      expect(r.stderr.match(/Error/g)?.length ?? 0).toBeLessThanOrEqual(1);
      expect(filesOf(join(cwd, "results"))).toEqual([]);
    }, 120_000);

    it("model.weights_strict: false skips a replaced head and keeps the module's own", () => {
      const cwd = project();
      const weights = file("head7.safetensors");
      const r = run(cwd, [
        `model.weights=${weights}`,
        "model.weights_strict=false",
        "model.freeze=[backbone]",
      ]);
      expect(r.code, r.stderr).toBe(0);
      const folder = runFolder(cwd);
      expect(readFileSync(join(folder, "training.log"), "utf8")).toContain(
        "kept at their start values: head.weight, head.bias",
      );
      const saved = join(folder, "epoch_2", "model.safetensors");
      expect(bytes(saved, "backbone.0.weight")).toEqual(bytes(weights, "backbone.0.weight"));
      expect(tensorsOf(saved).get("head.weight")?.shape).toEqual([10, 32]);
    }, 120_000);
  },
);
