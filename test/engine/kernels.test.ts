/**
 * The typed-array loops behind curricula's wasm kernels, against naive definitions on small cases,
 * and the buffer sharing of Identity/Cast (tensors must stay independent of each other's lifetime).
 */
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initEngine } from "../../src/engine/index.js";
import {
  type ConvGeometry,
  columnSums,
  im2colTransposedNHWC,
  isTiling,
  maxPoolGradNHWC,
  maxPoolGradTiledNHWC,
  type PoolGeometry,
} from "../../src/engine/wasm/kernels.js";
import { Rng } from "../../src/util/rng.js";

function values(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.random() - 0.5);
}

/** colT[(fh, fw, c), (b, oh, ow)] by the definition. */
function naiveIm2colT(x: Float32Array, g: ConvGeometry): Float32Array {
  const rows = g.batch * g.outHeight * g.outWidth;
  const out = new Float32Array(g.filterHeight * g.filterWidth * g.inChannels * rows);
  for (let fh = 0; fh < g.filterHeight; fh++)
    for (let fw = 0; fw < g.filterWidth; fw++)
      for (let c = 0; c < g.inChannels; c++)
        for (let b = 0; b < g.batch; b++)
          for (let oh = 0; oh < g.outHeight; oh++)
            for (let ow = 0; ow < g.outWidth; ow++) {
              const ih = oh * g.strideHeight - g.padTop + fh;
              const iw = ow * g.strideWidth - g.padLeft + fw;
              const inside = ih >= 0 && ih < g.inHeight && iw >= 0 && iw < g.inWidth;
              const row = (fh * g.filterWidth + fw) * g.inChannels + c;
              const col = (b * g.outHeight + oh) * g.outWidth + ow;
              out[row * rows + col] = inside
                ? (x[((b * g.inHeight + ih) * g.inWidth + iw) * g.inChannels + c] as number)
                : 0;
            }
  return out;
}

describe("im2colTransposedNHWC", () => {
  const cases: [string, ConvGeometry][] = [
    [
      "3x3 same, stride 1",
      {
        batch: 2,
        inHeight: 5,
        inWidth: 4,
        inChannels: 3,
        outHeight: 5,
        outWidth: 4,
        filterHeight: 3,
        filterWidth: 3,
        strideHeight: 1,
        strideWidth: 1,
        padTop: 1,
        padLeft: 1,
      },
    ],
    [
      "3x3 valid, 1 channel",
      {
        batch: 2,
        inHeight: 6,
        inWidth: 5,
        inChannels: 1,
        outHeight: 4,
        outWidth: 3,
        filterHeight: 3,
        filterWidth: 3,
        strideHeight: 1,
        strideWidth: 1,
        padTop: 0,
        padLeft: 0,
      },
    ],
    [
      "3x2 stride 2 with padding",
      {
        batch: 1,
        inHeight: 7,
        inWidth: 7,
        inChannels: 2,
        outHeight: 4,
        outWidth: 4,
        filterHeight: 3,
        filterWidth: 2,
        strideHeight: 2,
        strideWidth: 2,
        padTop: 1,
        padLeft: 0,
      },
    ],
    [
      "kernel wider than the padded image edge",
      {
        batch: 1,
        inHeight: 2,
        inWidth: 2,
        inChannels: 2,
        outHeight: 2,
        outWidth: 2,
        filterHeight: 5,
        filterWidth: 5,
        strideHeight: 1,
        strideWidth: 1,
        padTop: 2,
        padLeft: 2,
      },
    ],
  ];
  for (const [name, g] of cases) {
    it(name, () => {
      const x = values(g.batch * g.inHeight * g.inWidth * g.inChannels, 1);
      const want = naiveIm2colT(x, g);
      // Garbage in the output buffer must be overwritten everywhere (the kernel does not zero it).
      const got = new Float32Array(want.length).fill(Number.NaN);
      im2colTransposedNHWC(x, got, g);
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }
});

describe("maxPoolGradTiledNHWC", () => {
  const geometry = (k: number, h: number, w: number, c: number): PoolGeometry => ({
    batch: 2,
    channels: c,
    inHeight: h,
    inWidth: w,
    outHeight: h / k,
    outWidth: w / k,
    strideHeight: k,
    strideWidth: k,
    filterHeight: k,
    filterWidth: k,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 0,
    padLeft: 0,
  });
  for (const k of [2, 3]) {
    it(`${k}x${k} windows match the generic loop (ties, all-negative windows), without zeroing dx`, () => {
      const g = geometry(k, 2 * k, 3 * k, 3);
      const n = g.batch * g.inHeight * g.inWidth * g.channels;
      const rng = new Rng(k);
      // Few distinct values: many ties; shifted down: many all-negative windows.
      const x = Float32Array.from({ length: n }, () => rng.int(4) - 5);
      const dy = values(g.batch * g.outHeight * g.outWidth * g.channels, 7);
      const want = new Float32Array(n);
      maxPoolGradNHWC(x, dy, want, g);
      const got = new Float32Array(n).fill(Number.NaN);
      expect(isTiling(g)).toBe(true);
      maxPoolGradTiledNHWC(x, dy, got, g);
      expect(Array.from(got)).toEqual(Array.from(want));
    });
  }
  it("isTiling rejects overlapping, padded and ragged windows", () => {
    const g = geometry(2, 4, 4, 1);
    expect(isTiling({ ...g, strideHeight: 1, outHeight: 3 })).toBe(false);
    expect(isTiling({ ...g, padTop: 1 })).toBe(false);
    expect(isTiling({ ...g, inWidth: 5 })).toBe(false);
  });
});

describe("columnSums", () => {
  it("sums the columns for row counts that are and are not multiples of four", () => {
    for (const rows of [1, 3, 4, 9]) {
      const cols = 5;
      const x = values(rows * cols, rows);
      const got = new Float32Array(cols);
      columnSums(x, rows, cols, got);
      for (let c = 0; c < cols; c++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += x[r * cols + c] as number;
        expect(got[c]).toBeCloseTo(s, 6);
      }
    }
  });
});

describe("Identity and Cast share the buffer on wasm", () => {
  beforeAll(async () => {
    await initEngine({ backend: "wasm" });
  });
  it("a clone outlives its source and is unaffected by a variable's later assignment", () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(b, "float32");
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    const v = tf.variable(c);
    const snapshot = tf.clone(v);
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    // A cast to another dtype still converts.
    expect(Array.from(tf.cast(tf.tensor1d([1.7, -2.2]), "int32").dataSync())).toEqual([1, -2]);
    for (const t of [c, v, snapshot]) t.dispose();
  });
});
