import { describe, expect, it } from "vitest";
import { stopReason } from "../../src/experiments/executors/slurm.js";
import { parseJobStates, parsePartitions } from "../../src/experiments/executors/slurm-commands.js";
import {
  arraySpec,
  batchScript,
  parseSlurmSettings,
  REQUEUE_EXIT_CODE,
  shellQuote,
} from "../../src/experiments/executors/slurm-script.js";

describe("slurm settings", () => {
  it("fills defaults and validates keys", () => {
    const s = parseSlurmSettings({ partition: "gpu", time: "02:00:00", gpus: 1, mem: "8G" });
    expect(s).toMatchObject({ partition: "gpu", time: "02:00:00", gpus: 1, cpus: 1, runs_per_task: 1 });
    expect(() => parseSlurmSettings({ partitoin: "gpu" }, "study.yaml")).toThrow(
      /study.yaml: slurm.partitoin: unknown key; nearest known keys: partition/,
    );
    expect(() => parseSlurmSettings({ time: "two hours" })).toThrow(/slurm.time: a SLURM time limit/);
    expect(() => parseSlurmSettings({ cpus: 0 })).toThrow(/slurm.cpus/);
  });

  it("builds the array spec with its concurrency cap", () => {
    expect(arraySpec(4, 2)).toBe("0-3%2");
    expect(arraySpec(1, undefined)).toBe("0-0");
    expect(() => arraySpec(0, undefined)).toThrow(RangeError);
  });

  it("writes a batch script that forwards the time-limit signal and requeues on a checkpoint", () => {
    const settings = parseSlurmSettings({
      partition: "gpu",
      time: "1-00:00:00",
      gpus: "a100:1",
      cpus: 4,
      extra: ["--account=proj", "#SBATCH --qos=normal"],
      setup: ["module load cuda"],
      signal_seconds: 600,
    });
    const script = batchScript({
      settings,
      jobName: "curricula-x",
      tasks: 3,
      cwd: "/home/me/my project",
      command: ["/usr/bin/node", "/opt/curricula/dist/experiments/executors/slurm-task.js", "/r/jobs/b"],
      requeue: true,
    });
    const lines = script.split("\n");
    for (const line of [
      "#SBATCH --partition=gpu",
      "#SBATCH --time=1-00:00:00",
      "#SBATCH --cpus-per-task=4",
      "#SBATCH --gpus=a100:1",
      "#SBATCH --account=proj",
      "#SBATCH --qos=normal",
      "#SBATCH --signal=B:USR1@600",
      "#SBATCH --requeue",
      "module load cuda",
      "cd '/home/me/my project' || exit 1",
    ]) {
      expect(lines).toContain(line);
    }
    expect(script).toContain(`if [ "$rc" -eq ${REQUEUE_EXIT_CODE} ]; then`);
    expect(script).toMatch(/scontrol requeue/);
    expect(script.indexOf("module load cuda")).toBeLessThan(script.indexOf("slurm-task.js"));
    const plain = batchScript({
      settings,
      jobName: "j",
      tasks: 1,
      cwd: "/x",
      command: ["a"],
      requeue: false,
    });
    expect(plain).not.toMatch(/--signal|--requeue|scontrol requeue/);
  });

  it("quotes for bash", () => {
    expect(shellQuote("plain/path-1.js")).toBe("plain/path-1.js");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe("parsing squeue and sacct output", () => {
  it("reads tasks, pending ranges and odd lines", () => {
    const states = parseJobStates(
      [
        "12_3|RUNNING|None",
        "12_[4-6%2]|PENDING|JobArrayTaskLimit",
        "12_[8,10]|PENDING|Priority",
        "13|COMPLETED|None",
        "14|CANCELLED by 0|None",
        "14.batch|COMPLETED|",
        "garbage line",
        "",
        "15_1|?!|x",
      ].join("\n"),
    );
    expect(states.map((s) => `${s.id}:${s.state}`)).toEqual([
      "12_3:RUNNING",
      "12_4:PENDING",
      "12_5:PENDING",
      "12_6:PENDING",
      "12_8:PENDING",
      "12_10:PENDING",
      "13:COMPLETED",
      "14:CANCELLED",
    ]);
    expect(states[1]).toMatchObject({ job: "12", task: 4, reason: "JobArrayTaskLimit" });
  });

  it("reads partitions and the default mark", () => {
    expect(parsePartitions("debug*|up\ngpu|up\n\nbad name|up\n")).toEqual([
      { name: "debug", isDefault: true, state: "up" },
      { name: "gpu", isDefault: false, state: "up" },
    ]);
  });

  it("tells a cancelled task from one stopped by its time limit (slurmstepd's line in the log)", () => {
    const at = "2026-12-07T02:08:09";
    expect(stopReason(`run x\nslurmstepd-vm: error: *** JOB 2 ON vm CANCELLED AT ${at} ***\n`)).toEqual({
      state: "cancelled",
      message: "cancelled (scancel)",
    });
    expect(stopReason(`slurmstepd: error: *** JOB 7 ON n1 CANCELLED AT ${at} DUE TO TIME LIMIT ***`)).toEqual(
      {
        state: "failed",
        message: "stopped by SLURM due to time limit",
      },
    );
    expect(stopReason(`*** JOB 7 ON n1 CANCELLED AT ${at} DUE TO PREEMPTION ***`).state).toBe("cancelled");
    expect(stopReason("epoch 3\n")).toEqual({ state: "failed", message: "stopped by SIGTERM" });
  });
});
