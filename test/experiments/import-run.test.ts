/**
 * `curricula import`: runs recorded by another training loop become run folders the output-based
 * scores read. The PyTorch recorder example (examples/pytorch-recorder) trains on Digits with three
 * seeds; the imported runs' CELoss, AUM, Forgetting and Cartography equal numpy on the recorded
 * logits, and their 3-seed ensemble and robustness are written. The cartography and csv formats of
 * the same logits give the npy format's scores. Bad input is refused with exit 1 and nothing under
 * training/.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readRunConfig } from "../../src/results/run-folder.js";
import { readScoreRows } from "../../src/results/score-table.js";
import { score } from "../../src/scoring/score.js";
import { inspectRunFolder } from "../../src/training/resume.js";
import { loadNpy, saveNpy } from "../../src/util/npy.js";
import { Rng } from "../../src/util/rng.js";
import { readYaml } from "../../src/util/yaml-io.js";
import { expectClose } from "../support/assert.js";
import { runCli } from "../support/cli.js";
import { pytorch, TORCH_PYTHON } from "../support/python.js";
import { describeWith } from "../support/system.js";
import { tempDir } from "../training/helpers.js";

const EXAMPLE = join(process.cwd(), "examples", "pytorch-recorder", "train_digits.py");
const RUN = (seed: number | string, epochs = 5) =>
  `Digits_Imported_Adam_0.001_32_epoch_${epochs}_None_None_N_N_None_None_1_0_${seed}`;

/** Scores `run_name` with a scoring function in `resultsDir` (quiet; robustness on for ensembles). */
function scoreRuns(resultsDir: string, type: string, runName: string, extra: string[] = []) {
  return score({
    log: () => {},
    overrides: [
      `results_dir=${resultsDir}`,
      "progress_bar=false",
      "plots=false",
      "correlation=null",
      `curriculum/scoring=${type}`,
      `curriculum.scoring.run_name=${runName}`,
      ...extra,
    ],
  });
}

/** numpy on a recorded npy folder: each score per train id (stop = best, the first epoch of the highest dev accuracy). */
const NUMPY_SCORES = `
import json, sys
import numpy as np
root, epochs = sys.argv[1], int(sys.argv[2])
def load(split):
    ids = np.load(f"{root}/{split}/ids.npy"); y = np.load(f"{root}/{split}/targets.npy")
    return ids, y, [np.load(f"{root}/{split}/epoch_{k}.npy").astype(np.float64) for k in range(1, epochs + 1)]
ids, y, train = load("train")
_, dy, dev = load("dev")
acc = [float((z.argmax(1) == dy).mean()) for z in dev]
best = int(np.argmax(acc)) + 1
seq = train[:best]
rows = np.arange(len(y))
def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True)); return e / e.sum(1, keepdims=True)
z = seq[-1]
m = z.max(1)
ce = m + np.log(np.exp(z - m[:, None]).sum(1)) - z[rows, y]
margins = []
for z in seq:
    other = z.copy(); other[rows, y] = -np.inf
    margins.append(z[rows, y] - other.max(1))
aum = np.mean(margins, 0)
correct = np.array([z.argmax(1) == y for z in seq])
forget = np.zeros(len(y))
for t in range(1, len(seq)):
    forget += correct[t - 1] & ~correct[t]
forget = np.where(correct.any(0), forget, len(seq))
p = np.array([softmax(z)[rows, y] for z in seq])
out = {"best": best, "ids": ids.tolist(), "CELoss": ce.tolist(), "AUM": aum.tolist(), "Forgetting": forget.tolist(),
       "confidence": p.mean(0).tolist(), "variability": p.std(0).tolist(), "correctness": correct.mean(0).tolist()}
print(json.dumps(out))
`;

interface NumpyScores {
  best: number;
  ids: number[];
  CELoss: number[];
  AUM: number[];
  Forgetting: number[];
  confidence: number[];
  variability: number[];
  correctness: number[];
}

/** The values of a score CSV's column, ordered by source_index to match the numpy ids (sorted). */
function bySourceIndex(path: string, column: string): { ids: number[]; values: number[] } {
  const rows = readScoreRows(path);
  const values = rows.columns.get(column);
  if (!values) throw new Error(`${path}: no column ${column}`);
  const order = Array.from(rows.sourceIndex.keys()).sort(
    (a, b) => (rows.sourceIndex[a] as number) - (rows.sourceIndex[b] as number),
  );
  return {
    ids: order.map((i) => rows.sourceIndex[i] as number),
    values: order.map((i) => values[i] as number),
  };
}

describeWith(pytorch, "the PyTorch recorder example imported with curricula import", () => {
  const project = tempDir("import-torch");
  const results = join(project, "results");
  const reference = new Map<number, NumpyScores>();

  beforeAll(() => {
    const split = runCli(["import", "split", "--dataset", "Digits", "--write-split"], project);
    if (split.code !== 0) throw new Error(split.stderr);
    for (const seed of [1, 2, 3]) {
      const out = join(project, "runs", `seed${seed}`);
      const trained = spawnSync(
        TORCH_PYTHON as string,
        [EXAMPLE, "--split", join(project, "split"), "--out", out, "--seed", String(seed), "--epochs", "5"],
        { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } },
      );
      if (trained.status !== 0) throw new Error(`train_digits.py failed: ${trained.stderr}`);
      const imported = runCli(
        ["import", out, "--format", "npy", "--dataset", "Digits", `results_dir=${results}`, `seed=${seed}`],
        project,
      );
      if (imported.code !== 0) throw new Error(imported.stderr);
      const numpy = spawnSync(TORCH_PYTHON as string, ["-c", NUMPY_SCORES, out, "5"], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      });
      if (numpy.status !== 0) throw new Error(numpy.stderr);
      reference.set(seed, JSON.parse(numpy.stdout) as NumpyScores);
    }
  }, 300_000);

  it("writes a run folder per seed whose best epoch is the first of the highest dev accuracy", () => {
    for (const seed of [1, 2, 3]) {
      const dir = join(results, "default", "training", RUN(seed));
      const best = readYaml<{ iteration: number }>(join(dir, "_best", "dev.yaml"));
      expect(best.iteration).toBe(reference.get(seed)?.best);
      const config = readYaml<{
        imported: { format: string; files: Record<string, string> };
        model: unknown;
      }>(join(dir, "config.yaml"));
      expect(config.model).toEqual({ id: "Imported", type: "Imported" });
      expect(config.imported.format).toBe("npy");
      expect(Object.keys(config.imported.files)).toContain("train/epoch_5.npy");
      expect(readFileSync(join(dir, "metrics.csv"), "utf8").trim().split("\n")).toHaveLength(6);
    }
  });

  it("gives CELoss, AUM, Forgetting and Cartography equal to numpy on the recorded logits, and their 3-seed ensemble with robustness", async () => {
    const ensemble = RUN("#");
    const columns: Record<string, [string, keyof NumpyScores][]> = {
      CELoss: [["scores", "CELoss"]],
      AUM: [["aum", "AUM"]],
      Forgetting: [["forgetting", "Forgetting"]],
      Cartography: [
        ["confidence", "confidence"],
        ["variability", "variability"],
        ["correctness", "correctness"],
      ],
    };
    for (const [type, pairs] of Object.entries(columns)) {
      await scoreRuns(results, type, ensemble);
      const folder = join(results, "default", "curriculum", type);
      const means = pairs.map(() => new Float64Array(1079));
      for (const seed of [1, 2, 3]) {
        const numpy = reference.get(seed) as NumpyScores;
        const atomic = join(
          folder,
          `${RUN(seed)}${type === "CELoss" ? "_CrossEntropyLoss" : ""}_b`,
          "scores.csv",
        );
        pairs.forEach(([column, key], j) => {
          const got = bySourceIndex(atomic, column);
          expect(got.ids).toEqual(numpy.ids);
          expectClose(got.values, numpy[key] as number[], `${type} ${column} of seed ${seed}`, 1e-5, 1e-4);
          (numpy[key] as number[]).forEach((v, i) => {
            (means[j] as Float64Array)[i] = ((means[j] as Float64Array)[i] as number) + v / 3;
          });
        });
      }
      pairs.forEach(([column], j) => {
        expectClose(
          bySourceIndex(join(folder, `${type}.csv`), type === "CELoss" ? "mean" : column).values,
          means[j] as Float64Array,
          `${type} ${column} of the 3-seed ensemble`,
          1e-5,
          1e-4,
        );
      });
      const card = readYaml<{ robustness?: { runs: number; spearman_mean: number } }>(
        join(folder, `${type}.yaml`),
      );
      expect(card.robustness?.runs).toBe(3);
      expect(card.robustness?.spearman_mean).toBeGreaterThan(0);
    }
  }, 300_000);

  it("tells that a model-based score needs a model", async () => {
    await expect(scoreRuns(results, "GraNd", RUN(1))).rejects.toThrow(
      /GraNd needs a model, but this run was imported/,
    );
  });

  it("skips a second import of the same files and refuses other files under the same name", () => {
    const again = runCli(
      [
        "import",
        join(project, "runs", "seed1"),
        "--format",
        "npy",
        "--dataset",
        "Digits",
        `results_dir=${results}`,
        "seed=1",
      ],
      project,
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already imported from the same files/);
    cpSync(join(project, "runs", "seed1"), join(project, "runs", "moved"), { recursive: true });
    const moved = runCli(
      [
        "import",
        join(project, "runs", "moved"),
        "--format",
        "npy",
        "--dataset",
        "Digits",
        `results_dir=${results}`,
        "seed=1",
      ],
      project,
    );
    expect(moved.code).toBe(0);
    expect(moved.stderr).toMatch(/already imported from the same files/);
    const other = runCli(
      [
        "import",
        join(project, "runs", "seed2"),
        "--format",
        "npy",
        "--dataset",
        "Digits",
        `results_dir=${results}`,
        "seed=1",
      ],
      project,
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/imported\.(source|files)/);
  });
});

/** A recording of made-up logits on Digits' split: train only (as Dataset Cartography records). */
function fakeRecording(
  project: string,
  epochs: number,
): { ids: Int32Array; targets: Int32Array; logits: Float32Array[] } {
  const split = runCli(["import", "split", "--dataset", "Digits", "--write-split"], project);
  if (split.code !== 0) throw new Error(split.stderr);
  const ids = loadNpy(join(project, "split", "train", "ids.npy")).data as Int32Array;
  const targets = loadNpy(join(project, "split", "train", "targets.npy")).data as Int32Array;
  const rng = Rng.derive(7, "import-test");
  const logits = Array.from({ length: epochs }, (_, e) => {
    const z = new Float32Array(ids.length * 10);
    for (let i = 0; i < z.length; i++) z[i] = rng.normal();
    for (let r = 0; r < ids.length; r++)
      z[r * 10 + (targets[r] as number)] = (z[r * 10 + (targets[r] as number)] as number) + e * 0.8;
    return z;
  });
  return { ids, targets, logits };
}

function writeNpyFormat(dir: string, rec: ReturnType<typeof fakeRecording>): void {
  const n = rec.ids.length;
  saveNpy(join(dir, "train", "ids.npy"), rec.ids, [n]);
  saveNpy(join(dir, "train", "targets.npy"), rec.targets, [n]);
  rec.logits.forEach((z, e) => {
    saveNpy(join(dir, "train", `epoch_${e + 1}.npy`), z, [n, 10]);
  });
}

describe("curricula import of the cartography and csv formats", () => {
  const project = tempDir("import-formats");
  const results = join(project, "results");
  const epochs = 4;
  let rec: ReturnType<typeof fakeRecording>;

  beforeAll(() => {
    rec = fakeRecording(project, epochs);
    writeNpyFormat(join(project, "npy"), rec);
    // Dataset Cartography: epochs from 0, rows in another order each epoch, guids as strings.
    const dynamics = join(project, "carto", "training_dynamics");
    mkdirSync(dynamics, { recursive: true });
    const n = rec.ids.length;
    rec.logits.forEach((z, e) => {
      const order = Rng.derive(e, "rows").permutation(n);
      const lines = Array.from(order, (r) =>
        JSON.stringify({
          guid: String(rec.ids[r]),
          [`logits_epoch_${e}`]: Array.from(z.subarray(r * 10, r * 10 + 10)),
          gold: rec.targets[r],
        }),
      );
      writeFileSync(join(dynamics, `dynamics_epoch_${e}.jsonl`), `${lines.join("\n")}\n`);
    });
    const header = ["subset", "epoch", "id", "target", ...Array.from({ length: 10 }, (_, k) => `logit_${k}`)];
    const csv = [header.join(",")];
    rec.logits.forEach((z, e) => {
      for (let r = n - 1; r >= 0; r--) {
        csv.push(
          [
            "train",
            e + 1,
            rec.ids[r],
            rec.targets[r],
            ...Array.from(z.subarray(r * 10, r * 10 + 10), (v) => String(v)),
          ].join(","),
        );
      }
    });
    writeFileSync(join(project, "dynamics.csv"), `${csv.join("\n")}\n`);
    for (const [format, path] of [
      ["npy", "npy"],
      ["cartography", "carto"],
      ["csv", "dynamics.csv"],
    ] as const) {
      const r = runCli(
        [
          "import",
          path,
          "--format",
          format,
          "--dataset",
          "Digits",
          "--run-name",
          `from-${format}`,
          `results_dir=${results}`,
        ],
        project,
      );
      if (r.code !== 0) throw new Error(r.stderr);
    }
  }, 120_000);

  it("gives the npy format's AUM, Cartography, Forgetting and CELoss", async () => {
    for (const [type, column, atomicSuffix] of [
      ["AUM", "aum", "_b"],
      ["Cartography", "confidence", "_b"],
      ["Cartography", "variability", "_b"],
      ["Forgetting", "forgetting", "_b"],
      ["CELoss", "scores", "_CrossEntropyLoss_b"],
    ] as const) {
      await scoreRuns(results, type, "[from-npy,from-cartography,from-csv]");
      const folder = join(results, "default", "curriculum", type);
      const npy = bySourceIndex(join(folder, `from-npy${atomicSuffix}`, "scores.csv"), column);
      for (const other of ["from-cartography", "from-csv"]) {
        const got = bySourceIndex(join(folder, `${other}${atomicSuffix}`, "scores.csv"), column);
        expect(got.ids).toEqual(npy.ids);
        expectClose(got.values, npy.values, `${type} ${column} of ${other}`, 1e-6, 1e-6);
      }
    }
  }, 120_000);

  it("gives ConfidentLearning the recorded logits as out-of-sample probabilities", async () => {
    await scoreRuns(results, "ConfidentLearning", "from-npy", ["curriculum.scoring.cvloss=null"]);
    const folder = join(results, "default", "curriculum", "ConfidentLearning");
    const last = rec.logits[epochs - 1] as Float32Array;
    const row = new Map(Array.from(rec.ids, (id, r) => [id, r]));
    const p3 = bySourceIndex(join(folder, "ConfidentLearning.csv"), "p_3");
    const expected = p3.ids.map((id) => {
      const r = row.get(id) as number;
      const z = Array.from(last.subarray(r * 10, r * 10 + 10));
      const max = Math.max(...z);
      const sum = z.reduce((s, v) => s + Math.exp(v - max), 0);
      return Math.exp((z[3] as number) - max) / sum;
    });
    expectClose(p3.values, expected, "p_3 of the recorded logits", 1e-6, 1e-5);
    const card = readYaml<{ label_issues: number; run_name: string }>(join(folder, "ConfidentLearning.yaml"));
    expect(card.run_name).toBe("from-npy");
    expect(card.label_issues).toBeGreaterThanOrEqual(0);
  });

  it("tells that PredictionDepth needs a model", async () => {
    await expect(
      scoreRuns(results, "PredictionDepth", "from-npy", ["curriculum.scoring.probe_placements=[linear0]"]),
    ).rejects.toThrow(
      /from-npy: PredictionDepth needs a model, but this run was imported \(curricula import, npy format/,
    );
  });

  it("is refused by training: an imported run has no model to resume or reuse", () => {
    const dir = join(results, "default", "training", "from-npy");
    const config = readRunConfig(dir);
    expect(() => inspectRunFolder(dir, config)).toThrow(
      /holds a run imported by curricula import \(npy format/,
    );
  });

  it("refuses a bad cartography or csv recording, naming the file and line", () => {
    const dynamics = join(project, "carto-bad", "training_dynamics");
    mkdirSync(dynamics, { recursive: true });
    const line = (e: number, r: number, logits: number) =>
      JSON.stringify({
        guid: rec.ids[r],
        [`logits_epoch_${e}`]: Array.from((rec.logits[e] as Float32Array).subarray(r * 10, r * 10 + logits)),
        gold: rec.targets[r],
      });
    const n = rec.ids.length;
    for (const e of [0, 2]) {
      writeFileSync(
        join(dynamics, `dynamics_epoch_${e}.jsonl`),
        Array.from({ length: n }, (_, r) => line(e, r, 10)).join("\n"),
      );
    }
    const gap = runCli(
      ["import", "carto-bad", "--format", "cartography", "--dataset", "Digits", `experiment_id=bad`],
      project,
    );
    expect(gap.code).toBe(1);
    expect(gap.stderr).toMatch(/dynamics_epoch_1\.jsonl: missing \(epochs must run 0 … 2 without a gap\)/);
    writeFileSync(
      join(dynamics, "dynamics_epoch_1.jsonl"),
      Array.from({ length: n }, (_, r) => line(1, r, r === 7 ? 9 : 10)).join("\n"),
    );
    const short = runCli(
      ["import", "carto-bad", "--format", "cartography", "--dataset", "Digits", `experiment_id=bad`],
      project,
    );
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/dynamics_epoch_1\.jsonl:8: 9 logits, expected 10/);
    writeFileSync(join(project, "bad.csv"), "subset,epoch,id,target,logit_0,logit_1\nvalid,1,0,0,0.5,0.5\n");
    const csv = runCli(
      ["import", "bad.csv", "--format", "csv", "--dataset", "Digits", `experiment_id=bad`],
      project,
    );
    expect(csv.code).toBe(1);
    expect(csv.stderr).toMatch(/bad\.csv: row 2: subset: expected train, dev or test, got "valid"/);
    expect(existsSync(join(results, "bad"))).toBe(false);
  });

  it("records the fingerprints of the files read as the run's provenance", () => {
    const config = readYaml<{ imported: { format: string; files: Record<string, string> } }>(
      join(results, "default", "training", "from-cartography", "config.yaml"),
    );
    expect(config.imported.format).toBe("cartography");
    expect(Object.keys(config.imported.files).sort()).toEqual(
      Array.from({ length: epochs }, (_, e) => `training_dynamics/dynamics_epoch_${e}.jsonl`).sort(),
    );
  });
});

describe("curricula import refuses bad input", () => {
  const project = tempDir("import-bad");
  let rec: ReturnType<typeof fakeRecording>;

  beforeAll(() => {
    rec = fakeRecording(project, 3);
  }, 60_000);

  /** A recording with one change, imported: exit 1, the message matches, nothing under training/. */
  function refused(name: string, change: (dir: string) => void, message: RegExp): void {
    const dir = join(project, name);
    writeNpyFormat(dir, rec);
    change(dir);
    const r = runCli(["import", name, "--format", "npy", "--dataset", "Digits"], project);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(project, "results", "default", "training"))).toBe(false);
  }

  it("refuses a logits file with the wrong row count", () => {
    refused(
      "rows",
      (dir) => {
        const n = rec.ids.length - 1;
        saveNpy(join(dir, "train", "epoch_2.npy"), (rec.logits[1] as Float32Array).subarray(0, n * 10), [
          n,
          10,
        ]);
      },
      /epoch_2\.npy: 1078 rows but .*targets\.npy has 1079/,
    );
  });

  it("refuses NaN logits", () => {
    refused(
      "nan",
      (dir) => {
        const z = Float32Array.from(rec.logits[2] as Float32Array);
        z[5 * 10 + 3] = Number.NaN;
        saveNpy(join(dir, "train", "epoch_3.npy"), z, [rec.ids.length, 10]);
      },
      /epoch_3\.npy: epoch 3, row 5, logit 3 is NaN/,
    );
  });

  it("refuses targets that disagree with the dataset, naming the rows", () => {
    refused(
      "targets",
      (dir) => {
        const t = Int32Array.from(rec.targets);
        t[4] = ((t[4] as number) + 1) % 10;
        saveNpy(join(dir, "train", "targets.npy"), t, [t.length]);
      },
      new RegExp(
        `1 train target\\(s\\) disagree with the dataset's labels: row 4 \\(id ${rec?.ids[4] ?? "\\d+"}\\)`,
      ),
    );
  });

  it("refuses a missing epoch", () => {
    refused(
      "gap",
      (dir) => {
        rmSync(join(dir, "train", "epoch_2.npy"));
      },
      /epoch_2\.npy: missing \(epochs must run 1 … 3 without a gap\)/,
    );
  });
});
