import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BIN, runCli } from "../support/cli.js";

/** These tests spawn the built CLI (`npm test` runs tsc first). */
function temp(): string {
  return mkdtempSync(join(tmpdir(), "curricula-cli-"));
}

/** Async variant, so independent cases run side by side (describe.concurrent). */
function runAsync(
  args: string[],
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, CI: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const run = runCli;

describe.concurrent("curricula CLI: usage errors exit 2 with the message", () => {
  const cwd = temp();
  const cases: [string[], RegExp][] = [
    [[], /No command provided\./],
    [["frobnicate"], /Unknown command 'frobnicate'/],
    [["train", "--nope"], /unknown option '--nope'/],
    [["train", "seed"], /Invalid override 'seed': expected key=value/],
    [["train", "--jobs", "0"], /--jobs expects a positive integer/],
    [["create"], /No configuration directories specified\./],
    [["create", "invalid"], /Invalid configuration directory 'invalid'\./],
    [["create", "-e", "-a"], /The flags -e\/--empty and -a\/--all are mutually exclusive\./],
    [["create", "model", "-a"], /mutually exclusive with configuration directories\./],
    [["list"], /missing required argument 'group'/],
    [["list", "nope"], /Invalid configuration directory 'nope'\./],
    [["show", "model"], /missing required argument 'name'/],
    [["postprocess", "results"], /missing required argument 'experiment_id'/],
    [
      ["postprocess", "results", "default", "-a", "training_type"],
      /Invalid configuration to aggregate: 'training_type'/,
    ],
    [["postprocess", "results", "default", "-m", "x"], /--max-runs expects a positive integer/],
  ];
  for (const [args, message] of cases) {
    it(`curricula ${args.join(" ") || "(nothing)"}`, async () => {
      const r = await runAsync(args, cwd);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    });
  }
});

describe.concurrent("curricula CLI: runtime errors exit 1", () => {
  const cwd = temp();
  const cases: [string[], RegExp][] = [
    [["postprocess", "results", "default"], /Results directory 'results' does not exist\./],
    [["show", "model", "Nope"], /No global configuration 'Nope' found for 'model'\./],
    [["list", "model", "--local-only"], /Local conf directory 'model' does not exist\./],
    [["train", "dataset=Nope"], /dataset: no config named 'Nope'/],
    [["train", "iterations=???"], /iterations: required value missing/],
    [["train", "model.id=my_model"], /model\.id: 'my_model' must not contain '_'/],
    [["train", "-cn", "nothere"], /no entry config 'nothere\.yaml'/],
    [["rm-failed", "results", "default"], /Results directory 'results' does not exist\./],
  ];
  for (const [args, message] of cases) {
    it(`curricula ${args.join(" ")}`, async () => {
      const r = await runAsync(args, cwd);
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(1);
    });
  }
  it("curricula postprocess results other (no such experiment)", async () => {
    const dir = temp();
    mkdirSync(join(dir, "results", "default"), { recursive: true });
    const r = await runAsync(["postprocess", "results", "other"], dir);
    expect(r.stderr).toMatch(/Experiment ID 'other' does not exist in the results directory 'results'\./);
    expect(r.code).toBe(1);
  });
});

describe("curricula CLI: help, version, create, list, show", () => {
  it("prints version and help on every command with exit 0", async () => {
    const cwd = temp();
    const v = run(["--version"], cwd);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^curricula \d+\.\d+\.\d+/);
    const commands = [
      "create",
      "list",
      "show",
      "train",
      "preprocess",
      "postprocess",
      "rm-failed",
      "rm-states",
    ];
    const helps = await Promise.all(commands.map((cmd) => runAsync([cmd, "--help"], cwd)));
    helps.forEach((h, i) => {
      expect(h.code, commands[i]).toBe(0);
      expect(h.stdout, commands[i]).toMatch(new RegExp(`Usage: curricula ${commands[i]}`));
    });
  });

  it("creates conf/ (exactly the two entry configs with --empty), refuses to overwrite without --force", () => {
    const cwd = temp();
    expect(run(["create", "--empty"], cwd).code).toBe(0);
    expect(readdirSync(join(cwd, "conf")).sort()).toEqual(["config.yaml", "curriculum.yaml"]);
    const again = run(["create", "model"], cwd);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Directory 'conf' already exists\. Use -f\/--force to overwrite it\./);
    expect(run(["create", "model", "curriculum/scoring", "--force"], cwd).code).toBe(0);
    expect(existsSync(join(cwd, "conf", "curriculum", "scoring"))).toBe(true);
    expect(run(["create", "--all", "-f"], cwd).code).toBe(0);
    expect(existsSync(join(cwd, "conf", "curriculum", "sampling"))).toBe(true);
  });

  it("lists global and local configs with patterns, shows and saves a config", () => {
    const cwd = temp();
    mkdirSync(join(cwd, "conf", "model"), { recursive: true });
    writeFileSync(join(cwd, "conf", "model", "Tiny.yaml"), "id: Tiny\ntype: FFNN\n");
    const all = run(["list", "model"], cwd);
    expect(all.stdout).toBe(
      "Global 'model' configurations:\n - AudioCNN\n - CNN\n - FFNN\n - ResCNN\n - TorchScript\nLocal 'model' configurations:\n - Tiny\n",
    );
    expect(run(["list", "model", "-l"], cwd).stdout).toMatch(/^Local 'model' configurations:\n - Tiny\n$/);
    expect(run(["list", "model", "-g", "-p", "*CNN"], cwd).stdout).toBe(
      "Global 'model' configurations:\n - AudioCNN\n - CNN\n - ResCNN\n",
    );
    expect(run(["list", "model", "-p", "Invalid*"], cwd).stdout).toBe(
      "No global 'model' configurations found.\nNo local 'model' configurations found.\n",
    );
    const shown = run(["show", "model", "FFNN.yaml"], cwd);
    expect(shown.stdout).toMatch(/^id: FFNN$/m);
    expect(run(["show", "model", "CNN", "--save"], cwd).code).toBe(0);
    expect(readFileSync(join(cwd, "conf", "model", "CNN.yaml"), "utf8")).toMatch(/id: CNN/);
    const conflict = run(["show", "model", "CNN", "-s"], cwd);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/model configuration 'CNN' already exists\. Use -f to overwrite\./);
  });
});

describe("curricula CLI: training end to end (real trainer)", () => {
  it("create --empty && train, a 3-seed sweep with --jobs 2, rerun skips, postprocess -a seed", () => {
    const cwd = temp();
    expect(run(["create", "--empty"], cwd).code).toBe(0);
    const first = run(["train", "iterations=2"], cwd);
    expect(first.stderr).toMatch(/1 trained/);
    expect(first.code).toBe(0);
    const sweep = run(["train", "iterations=2", "seed=1,2,3", "--jobs", "2", "--no-progress"], cwd);
    expect(sweep.code, sweep.stderr).toBe(0);
    expect(sweep.stderr).toMatch(/3 run\(s\): 2 trained, 1 skipped, 0 failed/);
    const training = join(cwd, "results", "default", "training");
    const runs = readdirSync(training).filter((n) => !n.startsWith("."));
    expect(runs).toHaveLength(3);
    for (const name of runs) expect(existsSync(join(training, name, "metrics.csv"))).toBe(true);
    const rerun = run(["train", "iterations=2", "seed=1,2,3", "--jobs", "2"], cwd);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(/All 3 run\(s\) finished already/);
    const post = run(["postprocess", "results", "default", "-a", "seed"], cwd);
    expect(post.code, post.stderr).toBe(0);
    const aggDir = join(cwd, "results", "default", "agg_seed");
    const aggRuns = readdirSync(aggDir).filter((n) => n.includes("#"));
    expect(aggRuns).toEqual(["Digits_FFNN_Adam_0.001_32_epoch_2_None_None_N_N_None_None_1_0_#"]);
    expect(parse(readFileSync(join(aggDir, aggRuns[0] as string, "runs.yaml"), "utf8"))).toEqual(runs.sort());
    expect(
      existsSync(join(cwd, "results", "default", "summary", "plots", "training_plots", "accuracy.svg")),
    ).toBe(true);
  }, 90_000);

  it("a --jobs 2 sweep killed midway finishes every run exactly once on rerun", async () => {
    const cwd = temp();
    const args = [BIN, "train", "iterations=12", "seed=1,2,3", "--jobs", "2"];
    const training = join(cwd, "results", "default", "training");
    const child = spawn(process.execPath, args, { cwd, stdio: "ignore" });
    // kill once some run has saved a checkpoint beyond its first epoch
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const names = existsSync(training) ? readdirSync(training).filter((n) => !n.startsWith(".")) : [];
        if (names.some((n) => existsSync(join(training, n, "epoch_3", "trainer_state.json")))) {
          clearInterval(timer);
          child.kill("SIGTERM");
          resolve();
        }
      }, 100);
      child.on("exit", () => {
        clearInterval(timer);
        reject(new Error("the sweep finished before it could be killed"));
      });
    });
    await new Promise((resolve) => child.on("exit", resolve));
    const names0 = readdirSync(training).filter((n) => !n.startsWith("."));
    const finishedBefore = names0.filter((n) => existsSync(join(training, n, "metrics.csv")));
    const hadCheckpoint = names0.filter(
      (n) =>
        !finishedBefore.includes(n) &&
        readdirSync(join(training, n)).some((d) => existsSync(join(training, n, d, "trainer_state.json"))),
    );
    expect(hadCheckpoint.length).toBeGreaterThan(0);
    const rerun = run(["train", "iterations=12", "seed=1,2,3", "--jobs", "2"], cwd);
    expect(rerun.code, rerun.stderr).toBe(0);
    const names = readdirSync(training).filter((n) => !n.startsWith("."));
    expect(names).toHaveLength(3);
    for (const name of names) {
      expect(existsSync(join(training, name, "metrics.csv"))).toBe(true);
      const log = readFileSync(join(training, name, "training.log"), "utf8");
      if (finishedBefore.includes(name)) {
        // finished before the kill: not touched again
        expect(log.match(/^Training /gm)?.length, name).toBe(1);
        expect(log, name).not.toMatch(/^Resuming /m);
      } else if (hadCheckpoint.includes(name)) {
        // killed after a checkpoint: resumed, not restarted
        expect(log.match(/^Training /gm)?.length, name).toBe(1);
        expect(log, name).toMatch(/^Resuming /m);
      }
    }
    expect(readdirSync(join(training, ".locks"))).toEqual([]);
    const again = run(["train", "iterations=12", "seed=1,2,3", "--jobs", "2"], cwd);
    expect(again.stderr).toMatch(/All 3 run\(s\) finished already/);
  }, 120_000);
});
