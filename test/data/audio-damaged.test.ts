import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { DatasetConfig } from "../../src/config/schema.js";
import { wavDataSizes } from "../../src/data/audio-folder.js";
import { createDataset } from "../../src/data/index.js";
import { datasetConfig } from "./dataset-config.js";
import { tone, wav } from "./wav.js";

/**
 * Damaged and unusual audio: files without real samples are errors naming the file and the index
 * row; clips far shorter than `duration` and WAVs holding less than their header declares are
 * warnings with the row; an unwritable data folder says to set `cache_dir`; a misnamed path
 * column says to set `path_column`.
 */
const tmp = mkdtempSync(join(tmpdir(), "curricula-audio-damaged-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const small = { n_mels: 16, n_fft: 256, hop_length: 128, duration: 0.5, sample_rate: 8000 };

function config(root: string, extra: Record<string, unknown> = {}): DatasetConfig {
  return datasetConfig("AudioFolder", { id: "Tones", path: root, ...small, ...extra });
}

/** Ten good 0.4 s tones with a split column, plus `extra` files (name → bytes) listed last in train. */
function folder(name: string, extra: Record<string, Uint8Array> = {}, header = "path,label,split"): string {
  const root = join(tmp, name);
  mkdirSync(join(root, "clips"), { recursive: true });
  const lines = [header];
  for (let i = 0; i < 10; i++) {
    const label = i % 2 === 0 ? "low" : "high";
    writeFileSync(
      join(root, "clips", `${i}.wav`),
      wav([tone(label === "low" ? 300 : 3000, 8000, 0.4)], 8000),
    );
    lines.push(`clips/${i}.wav,${label},${i < 6 ? "train" : i < 8 ? "dev" : "test"}`);
  }
  for (const [file, bytes] of Object.entries(extra)) {
    writeFileSync(join(root, "clips", file), bytes);
    lines.push(`clips/${file},low,train`);
  }
  writeFileSync(join(root, "index.csv"), `${lines.join("\n")}\n`);
  return root;
}

/** A WAV of `seconds` whose bytes are cut after `keep` bytes (its header still declares them all). */
function cutWav(seconds: number, keep: number): Uint8Array {
  return wav([tone(300, 8000, seconds)], 8000).subarray(0, keep);
}

function stderrLines(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe("damaged audio files", () => {
  it("reads the declared and present sample counts of a WAV", () => {
    expect(wavDataSizes(wav([tone(300, 8000, 0.5)], 8000))).toEqual({ declared: 4000, present: 4000 });
    expect(wavDataSizes(cutWav(0.5, 44 + 200))).toEqual({ declared: 4000, present: 100 });
    expect(wavDataSizes(new Uint8Array([1, 2, 3]))).toBeNull();
  });

  it("a WAV cut down to its header (a few bytes of samples left) is an error naming the file and row", async () => {
    const root = folder("header-only", { "cut.wav": cutWav(0.5, 48) });
    await expect(createDataset(config(root))).rejects.toThrow(
      /cut\.wav: audio too short \(row 11 \(line 12\) of .*index\.csv\): 2 samples \(0 ms\), fewer than one analysis window \(n_fft = 256/,
    );
    // Nothing half-built is left as a cache.
    const cache = join(root, ".curricula-cache");
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
  });

  it("a header without any samples is an error naming the file and row", async () => {
    const root = folder("no-samples", { "empty.wav": cutWav(0.5, 44) });
    await expect(createDataset(config(root))).rejects.toThrow(
      /empty\.wav: cannot decode audio \(row 11 \(line 12\).*no samples \(an empty or header-only file\)/,
    );
  });

  it("several bad files are listed all at once, each with its row, and no cache is written", async () => {
    const root = folder("several", {
      "cut.wav": cutWav(0.5, 48),
      "empty.wav": cutWav(0.5, 44),
      "noise.wav": new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    const error = await createDataset(config(root)).catch((e) => e);
    expect(error.message).toMatch(/index\.csv: 3 audio files are undecodable; fix or remove them all/);
    expect(error.message).toMatch(/cut\.wav: audio too short \(row 11 \(line 12\)/);
    expect(error.message).toMatch(/empty\.wav: cannot decode audio \(row 12 \(line 13\)/);
    expect(error.message).toMatch(/noise\.wav: cannot decode audio \(row 13 \(line 14\)/);
    const cache = join(root, ".curricula-cache");
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
  });

  it("several missing files are listed all at once", async () => {
    const root = folder("missing");
    rmSync(join(root, "clips", "3.wav"));
    rmSync(join(root, "clips", "7.wav"));
    await expect(createDataset(config(root))).rejects.toThrow(
      /2 audio files are missing[\s\S]*3\.wav: audio file not found \(row 4 \(line 5\)[\s\S]*7\.wav: audio file not found \(row 8 \(line 9\)/,
    );
  });

  it("warns, with the row, about clips far shorter than duration and WAVs holding less than declared", async () => {
    const short = wav([tone(300, 8000, 0.04)], 8000); // 40 ms of a 0.5 s clip
    const truncated = cutWav(0.5, 44 + 2 * 2400); // 0.3 s of a declared 0.5 s
    const root = folder("short", { "short.wav": short, "truncated.wav": truncated });
    const lines = stderrLines();
    const ds = await createDataset(config(root));
    vi.restoreAllMocks();
    expect(ds.subset("train").size).toBe(8);
    const text = lines.join("");
    expect(text).toMatch(/warning: 2 audio file\(s\) of .*index\.csv may be damaged or too short/);
    expect(text).toMatch(
      /short\.wav \(row 11 \(line 12\) of .*\): 40 ms long, far shorter than duration = 0\.5 s/,
    );
    expect(text).toMatch(
      /truncated\.wav \(row 12 \(line 13\) of .*\): truncated: its header declares 4000 samples, the file holds 2400/,
    );
  });

  it("an index whose path column is named differently says to set dataset.path_column", async () => {
    const root = folder("renamed", {}, "file,label,split");
    await expect(createDataset(config(root))).rejects.toThrow(
      /index\.csv: no column 'path' \(dataset\.path_column\); the columns are: file, label, split; if the file paths are in another column, set dataset\.path_column to its name/,
    );
    await expect(createDataset(config(root, { path_column: "file" }))).resolves.toBeDefined();
  });

  it("a read-only data folder says to set dataset.cache_dir (run as an unprivileged user)", () => {
    const root = folder("read-only");
    chmodSync(tmp, 0o755);
    chmodSync(root, 0o555);
    // root may write anywhere: the check then runs as "nobody" (as an ordinary user, directly).
    // "nobody" may not be able to read dist/ (a clone into a folder only root may enter, such as a
    // `mktemp -d` one), so the child loads the modules as root and drops to "nobody" before it
    // builds the dataset (which fails on the cache's folder before it loads the audio decoder).
    const asNobody = process.getuid?.() === 0;
    const modules = fileURLToPath(new URL("../../dist/data/index.js", import.meta.url));
    const script = `
      const { createDataset } = await import(${JSON.stringify(pathToFileURL(modules).href)});
      if (${asNobody}) {
        process.setgroups([65534]);
        process.setgid(65534);
        process.setuid(65534);
      }
      try {
        await createDataset(${JSON.stringify(config(root))});
        console.log("built");
      } catch (error) {
        console.log(error.message);
        process.exit(3);
      }`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      cwd: tmp,
    });
    chmodSync(root, 0o755);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(
      /cannot write the feature cache .*read-only\/\.curricula-cache\/logmel-\w+ \(EACCES\): the data folder is not writable; set dataset\.cache_dir to a writable folder/,
    );
    expect(existsSync(join(root, ".curricula-cache"))).toBe(false);
  });
});
