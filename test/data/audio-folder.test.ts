import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { audioFolderSettings } from "../../src/data/audio-folder.js";
import { createDataset, preprocessDataset } from "../../src/data/index.js";
import { DataError } from "../../src/util/errors.js";
import { describeWith, systemFile } from "../support/system.js";
import { datasetConfig } from "./dataset-config.js";
import { SMALL_LOGMEL, tone, toneFolder, wav } from "./wav.js";

const tmp = mkdtempSync(join(tmpdir(), "curricula-audio-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const config = (extra: Record<string, unknown>) => datasetConfig("AudioFolder", { id: "Tones", ...extra });

function makeToneFolder(name: string, withSplit: boolean, count = 10): string {
  return toneFolder(join(tmp, name), withSplit, count);
}

const small = SMALL_LOGMEL;

describe("AudioFolder", () => {
  it("preprocesses to a cache and then loads without decoding audio", async () => {
    const root = makeToneFolder("split", true);
    const cfg = config({ path: root, ...small });
    await preprocessDataset(cfg);
    const s = audioFolderSettings(cfg);
    expect(readdirSync(s.cacheDir).sort()).toEqual([
      "cache_key.json",
      "dev.npy",
      "dev_rows.npy",
      "test.npy",
      "test_rows.npy",
      "train.npy",
      "train_rows.npy",
    ]);
    const key = JSON.parse(readFileSync(join(s.cacheDir, "cache_key.json"), "utf8"));
    expect(key).toMatchObject({ sample_rate: 8000, n_mels: 16, n_fft: 256, hop_length: 128, duration: 0.5 });
    // Remove the audio: createDataset must only read the cache.
    rmSync(join(root, "clips"), { recursive: true });
    const ds = await createDataset(cfg);
    expect(ds.featureShape).toEqual([1 + Math.floor(4000 / 128), 16, 1]);
    expect(ds.classNames).toEqual(["high", "low"]);
    expect([ds.subset("train").size, ds.subset("dev").size, ds.subset("test").size]).toEqual([6, 2, 2]);
    expect(Array.from(ds.subset("dev").sourceIndex)).toEqual([6, 7]);
    expect(Array.from(ds.subset("dev").labels)).toEqual([1, 0]);
    // Features are standardised with train statistics; low and high tones differ clearly.
    const train = ds.subset("train");
    const b = train.batch(Array.from({ length: train.size }, (_, i) => i));
    const width = b.x.length / train.size;
    let sum = 0;
    for (const v of b.x) sum += v;
    expect(Math.abs(sum / b.x.length)).toBeLessThan(1e-3);
    // Mean energy in the top mel bands is higher for the 3 kHz tones.
    const topBands = (row: number) => {
      let e = 0;
      for (let f = 0; f < width / 16; f++)
        for (let m = 10; m < 16; m++) e += b.x[row * width + f * 16 + m] as number;
      return e;
    };
    for (let r = 0; r < train.size; r++) {
      const other = Array.from(train.labels).findIndex((y) => y !== train.labels[r]);
      if (train.labels[r] === 0) expect(topBands(r)).toBeGreaterThan(topBands(other));
    }
    // Preprocessing again with a valid cache does not rebuild it.
    const before = statSync(join(s.cacheDir, "train.npy")).mtimeMs;
    await preprocessDataset(cfg);
    expect(statSync(join(s.cacheDir, "train.npy")).mtimeMs).toBe(before);
  });

  it("builds the cache on first use and invalidates it when a parameter changes", async () => {
    const root = makeToneFolder("nosplit", false, 12);
    const cacheDir = join(tmp, "explicit-cache");
    const cfg = config({ path: root, cache_dir: cacheDir, ...small });
    const a = await createDataset(cfg);
    expect(existsSync(join(cacheDir, "all.npy"))).toBe(true);
    // 12 files, 0.2/0.2 stratified: 2 dev, 2 test.
    expect([a.subset("train").size, a.subset("dev").size, a.subset("test").size]).toEqual([8, 2, 2]);
    const b = await createDataset(cfg);
    expect(Array.from(b.subset("dev").sourceIndex)).toEqual(Array.from(a.subset("dev").sourceIndex));
    const changed = config({ path: root, cache_dir: cacheDir, ...small, n_mels: 8 });
    const c = await createDataset(changed);
    expect(c.featureShape[1]).toBe(8);
    expect(JSON.parse(readFileSync(join(cacheDir, "cache_key.json"), "utf8")).n_mels).toBe(8);
    // Default cache folders differ by parameters.
    expect(audioFolderSettings(config({ path: root })).cacheDir).not.toBe(
      audioFolderSettings(config({ path: root, n_mels: 32 })).cacheDir,
    );
  });

  it("in_memory: false reads each batch's rows from the cache file and gives the same batches and statistics", async () => {
    for (const withSplit of [true, false]) {
      const root = makeToneFolder(withSplit ? "streamed-split" : "streamed", withSplit, 12);
      const inMemory = await createDataset(config({ path: root, ...small, in_memory: true }));
      const onDisk = await createDataset(config({ path: root, ...small, in_memory: false }));
      const auto = await createDataset(config({ path: root, ...small }));
      for (const name of ["train", "dev", "test"] as const) {
        const a = inMemory.subset(name);
        // Reversed positions with a repeat: rows are read out of order and some twice.
        const positions = Int32Array.from({ length: a.size + 1 }, (_, i) => Math.max(0, a.size - 1 - i));
        const x = Array.from(a.batch(positions).x);
        expect(x.length).toBe(positions.length * 32 * 16);
        expect(Array.from(onDisk.subset(name).batch(positions).x)).toEqual(x);
        expect(Array.from(auto.subset(name).batch(positions).x)).toEqual(x);
        expect(Array.from(onDisk.subset(name).labels)).toEqual(Array.from(a.labels));
      }
      // Only the streamed dataset reads the cache file after it is built.
      const cacheDir = audioFolderSettings(config({ path: root, ...small })).cacheDir;
      const features = join(cacheDir, withSplit ? "train.npy" : "all.npy");
      renameSync(features, `${features}.aside`);
      expect(() => onDisk.subset("train").batch([0])).toThrow(/ENOENT/);
      expect(inMemory.subset("train").batch([0]).x.length).toBe(32 * 16);
      renameSync(`${features}.aside`, features);
    }
    await expect(
      createDataset(config({ path: join(tmp, "streamed"), ...small, in_memory: "sometimes" })),
    ).rejects.toThrow(/dataset\.in_memory: expected auto, true or false, got 'sometimes'/);
  });

  it("a cache whose features do not match its parameters is an error naming the file", async () => {
    const root = makeToneFolder("mismatch", true);
    const cfg = config({ path: root, ...small });
    await preprocessDataset(cfg);
    const train = join(audioFolderSettings(cfg).cacheDir, "train.npy");
    writeFileSync(train, readFileSync(train).subarray(0, statSync(train).size - 4));
    await expect(createDataset(cfg)).rejects.toThrow(
      /train\.npy: unexpected cache content; delete .* and preprocess again/,
    );
  });

  it("names an audio file that does not decode and one that is missing", async () => {
    const root = join(tmp, "broken");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "ok.wav"), wav([tone(440, 8000, 0.2)], 8000));
    writeFileSync(
      join(root, "noise.wav"),
      Uint8Array.from({ length: 200 }, (_, i) => (i * 37) % 256),
    );
    writeFileSync(
      join(root, "index.csv"),
      "path,label,split\nok.wav,a,train\nnoise.wav,b,dev\nok.wav,a,test\n",
    );
    const attempt = preprocessDataset(config({ path: root, ...small }));
    await expect(attempt).rejects.toThrow(DataError);
    await expect(preprocessDataset(config({ path: root, ...small }))).rejects.toThrow(
      /broken\/noise\.wav: cannot decode audio \(row 2 \(line 3\) of .*index\.csv\)/,
    );
    writeFileSync(
      join(root, "index.csv"),
      "path,label,split\nok.wav,a,train\ngone.wav,b,dev\nok.wav,a,test\n",
    );
    await expect(createDataset(config({ path: root, ...small }))).rejects.toThrow(
      /gone\.wav: audio file not found/,
    );
    // No cache was left behind by the failed builds.
    expect(
      existsSync(join(root, ".curricula-cache")) ? readdirSync(join(root, ".curricula-cache")) : [],
    ).toEqual([]);
  });

  it("reports a missing index, a missing label column and an empty split", async () => {
    await expect(createDataset(config({ path: join(tmp, "nowhere"), ...small }))).rejects.toThrow(
      /nowhere\/index\.csv: audio index \(dataset\.index\) not found/,
    );
    const root = join(tmp, "nolabel");
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "index.csv"), "path,class\na.wav,x\n");
    await expect(createDataset(config({ path: root, ...small }))).rejects.toThrow(
      /no column 'label' \(dataset\.label_column\)/,
    );
    const few = makeToneFolder("few", false, 3);
    await expect(createDataset(config({ path: few, ...small }))).rejects.toThrow(
      /the dev split would be empty/,
    );
  });

  const digits = "/usr/share/asterisk/sounds/en/digits";
  describeWith(
    systemFile(join(digits, "1.wav"), "asterisk-core-sounds-en-wav"),
    "the asterisk spoken digits",
    () => {
      it("turns the asterisk spoken digits (8 kHz WAV) into log-mel features", async () => {
        const index = join(tmp, "digits-index.csv");
        const rows = ["path,label,split"];
        for (let d = 0; d < 10; d++)
          rows.push(`${d}.wav,${d},train`, `${d === 0 ? "oh" : `h-${d}`}.wav,${d},${d < 5 ? "dev" : "test"}`);
        writeFileSync(index, `${rows.join("\n")}\n`);
        const cfg = config({
          id: "SpokenDigits",
          path: digits,
          index,
          cache_dir: join(tmp, "digits-cache"),
          duration: 1,
        });
        const ds = await createDataset(cfg);
        expect(ds.featureShape).toEqual([101, 64, 1]);
        expect(ds.classNames).toHaveLength(10);
        expect(ds.subset("train").size).toBe(10);
        const raw = await import("../../src/util/npy.js").then((m) =>
          m.loadNpy(join(tmp, "digits-cache", "train.npy")),
        );
        expect(raw.shape).toEqual([10, 101, 64]);
        // Speech has energy well above the silence floor.
        expect(Math.max(...raw.data)).toBeGreaterThan(0);
        expect(Math.min(...raw.data)).toBeGreaterThanOrEqual(-100);
      });
    },
  );
});
