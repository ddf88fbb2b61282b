import { describe, expect, it } from "vitest";
import { Rng } from "../../src/util/rng.js";

describe("Rng", () => {
  it("gives the same stream for the same seed and a different one for another seed", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 8 }, () => a.nextUint32());
    const sb = Array.from({ length: 8 }, () => b.nextUint32());
    const sc = Array.from({ length: 8 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it("continues exactly after its state is saved and restored", () => {
    const a = new Rng(7);
    for (let i = 0; i < 5; i++) a.random();
    const restored = new Rng(a.getState());
    expect(Array.from({ length: 5 }, () => restored.random())).toEqual(
      Array.from({ length: 5 }, () => a.random()),
    );
  });

  it("draws uniform doubles in [0, 1) with a mean near 0.5", () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const v = r.random();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      sum += v;
    }
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
  });

  it("produces permutations holding every index once", () => {
    const p = new Rng(3).permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("derives independent streams by purpose", () => {
    expect(Rng.derive(1, "split").nextUint32()).not.toBe(Rng.derive(1, "shuffle").nextUint32());
    expect(Rng.derive(1, "split").nextUint32()).toBe(Rng.derive(1, "split").nextUint32());
  });

  it("rejects a non-positive bound for int()", () => {
    expect(() => new Rng(1).int(0)).toThrow(/positive integer/);
  });
});
