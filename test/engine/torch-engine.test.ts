/**
 * The active engine: CURRICULA_ENGINE as the process default (how scoring is moved to torch), and
 * matMulTransposed (the k-NN's tile product) running on libtorch when torch is active, and outputs
 * that V8 accounts for (so a long eval loop's tap outputs are collected, not piled up).
 */
import { afterAll, expect, it } from "vitest";
import { createNetwork, engineInfo, initEngine, matMulTransposed } from "../../src/engine/index.js";
import { Rng } from "../../src/util/rng.js";
import { describeWith } from "../support/system.js";
import { torchEngine } from "../support/torch.js";

afterAll(async () => {
  delete process.env.CURRICULA_ENGINE;
  await initEngine({ engine: "wasm" });
});

describeWith(torchEngine, "torch engine: process default and matrix products", () => {
  it("initEngine() follows CURRICULA_ENGINE, and an explicit engine wins over it", async () => {
    await initEngine({ engine: "wasm" });
    process.env.CURRICULA_ENGINE = "torch";
    expect((await initEngine()).engine).toBe("torch");
    expect((await initEngine({ engine: "wasm" })).engine).toBe("wasm");
    process.env.CURRICULA_ENGINE = "gpu";
    await expect(initEngine()).rejects.toThrow(/CURRICULA_ENGINE: unknown engine 'gpu'/);
    delete process.env.CURRICULA_ENGINE;
  });

  it("matMulTransposed on torch: a·bᵀ within float32 rounding of the float64 product, any shape", async () => {
    await initEngine({ engine: "torch", threads: 2 });
    expect(engineInfo()?.engine).toBe("torch");
    const rng = new Rng(4);
    for (const [m, n, d] of [
      [1, 1, 1],
      [7, 5, 3],
      [300, 129, 64],
    ] as const) {
      const a = Float32Array.from({ length: m * d }, () => rng.normal());
      const b = Float32Array.from({ length: n * d }, () => rng.normal());
      const out = matMulTransposed(a, m, b, n, d);
      expect(out.length).toBe(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let exact = 0;
          let magnitude = 0;
          for (let k = 0; k < d; k++) {
            exact += (a[i * d + k] as number) * (b[j * d + k] as number);
            magnitude += Math.abs((a[i * d + k] as number) * (b[j * d + k] as number));
          }
          // |fl(a·b) - a·b| ≤ γ_d Σ|a_k b_k| with γ_d ≈ d·2⁻²⁴.
          expect(Math.abs((out[i * n + j] as number) - exact)).toBeLessThanOrEqual(
            (d + 1) * 2 ** -24 * magnitude + 1e-30,
          );
        }
      }
    }
    expect(() => matMulTransposed(new Float32Array(5), 2, new Float32Array(4), 2, 2)).toThrow(
      /a holds 5 values, expected 2 × 2/,
    );
  });

  it("forward outputs live in memory V8 counts, so an eval loop over many batches stays bounded", async () => {
    await initEngine({ engine: "torch", threads: 2 });
    const net = createNetwork({ type: "CNN", inputShape: [28, 28, 1], outputDim: 10, params: {} }, null, 1);
    const taps = net.layerNames.filter((l) => /conv|linear/.test(l));
    const x = new Float32Array(128 * 784).fill(0.5);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 60; i++) {
      const result = net.forward(x, 128, taps);
      const bytes = Object.values(result.layers).reduce(
        (n, l) => n + l.data.byteLength,
        result.logits.byteLength,
      );
      // The results are alive here: V8's array-buffer total must include them (an external buffer
      // wrapping a tensor would not be counted, and the collector would never hurry to free it).
      expect(process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(bytes);
    }
    // 60 batches of ~20 MB of taps each: unfreed, they would add over a gigabyte.
    expect(process.memoryUsage().rss - before).toBeLessThan(600e6);
    net.dispose();
  });
});
