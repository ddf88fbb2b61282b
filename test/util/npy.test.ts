import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeNpy, encodeNpy, loadNpy, saveNpy } from "../../src/util/npy.js";

describe("npy", () => {
  it("writes a header numpy can parse: magic, version 1.0, 64-byte aligned, dtype and shape", () => {
    const bytes = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLen) % 64).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLen));
    expect(header).toContain("'descr': '<f4'");
    expect(header).toContain("'shape': (2, 3)");
    expect(header.endsWith("\n")).toBe(true);
  });

  it("round-trips float32, int32 and uint8 arrays with their shapes", () => {
    for (const [data, shape] of [
      [new Float32Array([0.5, -1.25, 3]), [3]],
      [new Int32Array([1, -2, 3, 4]), [2, 2]],
      [new Uint8Array([0, 255, 7]), [3, 1]],
    ] as const) {
      const back = decodeNpy(encodeNpy(data, shape));
      expect(back.shape).toEqual([...shape]);
      expect([...back.data]).toEqual([...data]);
      expect(back.data.constructor).toBe(data.constructor);
    }
  });

  it("refuses a shape that does not match the data", () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/holds 6 values but the array has 5/);
  });

  it("saves atomically: only the final file remains", () => {
    const dir = mkdtempSync(join(tmpdir(), "npy-"));
    saveNpy(join(dir, "a.npy"), new Int32Array([9, 8]), [2]);
    expect(readdirSync(dir)).toEqual(["a.npy"]);
    expect([...loadNpy(join(dir, "a.npy")).data]).toEqual([9, 8]);
  });
});
