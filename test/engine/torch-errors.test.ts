/**
 * The clear errors: an unknown engine, CUDA asked for but absent, a device on the wasm engine, and
 * a missing or broken torch addon (through the CLI, as a user meets them: what to install). Also
 * that engine=auto falls back to wasm without the addon, and picks torch with it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseRunConfig } from "../../src/config/parse.js";
import { initEngine } from "../../src/engine/index.js";
import { ConfigError } from "../../src/util/errors.js";
import { BIN } from "../support/cli.js";
import { describeWith } from "../support/system.js";
import { torch, torchEngine } from "../support/torch.js";
import { tempDir } from "../training/helpers.js";

const root = tempDir("torch-errors");
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await initEngine({ engine: "wasm" });
});

function cli(args: string[], cwd: string, env: Record<string, string> = {}) {
  mkdirSync(cwd, { recursive: true });
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, CI: "1", ...env },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

const TRAIN = ["train", "iterations=1", "progress_bar=false"];

describe("engine errors", () => {
  it("an unknown engine names the key and the choices (config and API)", async () => {
    expect(() =>
      parseRunConfig({
        experiment_id: "x",
        seed: 1,
        batch_size: 8,
        learning_rate: 0.1,
        iterations: 1,
        dataset: { id: "Digits", type: "Digits" },
        model: { id: "FFNN", type: "FFNN" },
        optimizer: { id: "Adam", type: "Adam" },
        engine: "tpu",
      }),
    ).toThrow(/engine: .*"auto".*"wasm".*"torch"/);
    await expect(initEngine({ engine: "tpu" as never })).rejects.toThrow(ConfigError);
    await expect(initEngine({ engine: "tpu" as never })).rejects.toThrow(
      /engine: unknown engine 'tpu'; expected one of: auto, wasm, torch/,
    );
    const r = cli([...TRAIN, "engine=tpu"], join(root, "unknown"));
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/engine/);
  });

  it("a device on the wasm engine, and a malformed device, are refused", async () => {
    await expect(initEngine({ engine: "wasm", device: "cuda" })).rejects.toThrow(
      /device: 'cuda' needs engine=torch/,
    );
    await expect(initEngine({ engine: "torch", device: "gpu0" })).rejects.toThrow(
      /device: expected cpu, cuda or cuda:N, got 'gpu0'/,
    );
  });

  it("without the addon: engine=torch says what to install; engine=auto trains on wasm", () => {
    const env = { CURRICULA_TORCH_ADDON: join(root, "nowhere", "curricula_torch.node") };
    const r = cli([...TRAIN, "engine=torch"], join(root, "missing"), env);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/the torch engine is not built/);
    expect(r.out).toMatch(/apt-get install libtorch-dev libopenblas0-pthread/);
    expect(r.out).toMatch(/npm run build:torch/);
    const listing = cli(["engines"], join(root, "missing"), env);
    expect(listing.code).toBe(0);
    expect(listing.out).toMatch(/torch: not usable[\s\S]*why not: the torch engine is not built/);
    const auto = cli([...TRAIN, "engine=auto"], join(root, "auto-missing"), env);
    expect(auto.code, auto.out).toBe(0);
    const hardware = readFileSync(
      join(
        root,
        "auto-missing",
        "results",
        "default",
        "training",
        "Digits_FFNN_Adam_0.001_32_epoch_1_None_None_N_N_None_None_1_0_1",
        "hardware.yaml",
      ),
      "utf8",
    );
    expect(hardware).toMatch(/name: wasm/);
  });

  it("a broken addon (a file that is no addon) says it does not load and to rebuild", () => {
    const fake = join(root, "broken.node");
    writeFileSync(fake, "not a shared object");
    const r = cli([...TRAIN, "engine=torch"], join(root, "broken"), { CURRICULA_TORCH_ADDON: fake });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/does not load .*rebuild it: install libtorch/);
  });
});

describeWith(torchEngine, "engine errors with the torch engine built", () => {
  it("CUDA asked for but absent (or a device index past the last GPU)", async () => {
    if (torch.devices.includes("cuda:0")) {
      await expect(initEngine({ engine: "torch", device: "cuda:99" })).rejects.toThrow(
        /device: 'cuda:99': libtorch sees \d+ CUDA device/,
      );
    } else {
      await expect(initEngine({ engine: "torch", device: "cuda" })).rejects.toThrow(
        /device: 'cuda': CUDA is not available to the torch engine/,
      );
      const r = cli([...TRAIN, "engine=torch", "device=cuda:0"], join(root, "cuda"));
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/CUDA is not available/);
    }
  });

  it("engine=auto picks torch when it is built", async () => {
    const info = await initEngine({ engine: "auto", threads: 1 });
    expect(info.engine).toBe("torch");
    expect(info.threads).toBe(1);
  });
});
