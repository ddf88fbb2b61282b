import { inflateSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { escapeHtml, inlineSvg } from "../../src/plots/html.js";
import { crc32, encodePng, imageToPixels } from "../../src/plots/png.js";

describe("PNG encoding", () => {
  test("encodePng writes a valid greyscale PNG whose pixels inflate back", () => {
    const pixels = Uint8Array.from([0, 64, 128, 255, 1, 2]);
    const png = encodePng(pixels, 3, 2, 1);
    const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    expect(view.getUint32(16)).toBe(3);
    expect(view.getUint32(20)).toBe(2);
    expect(png[25]).toBe(0); // colour type greyscale
    const ihdrCrc = view.getUint32(29);
    expect(ihdrCrc).toBe(crc32(png.subarray(12, 29)));
    const idatLength = view.getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    expect([...raw]).toEqual([0, 0, 64, 128, 0, 255, 1, 2]);
    expect(() => encodePng(pixels, 2, 2, 1)).toThrow(/expected 2×2×1 bytes, got 6/);
  });

  test("crc32 matches the IEEE check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test("imageToPixels min–max scales features to 0..255", () => {
    const { pixels, channels } = imageToPixels([-1, 0, 1, 3], [2, 2, 1]);
    expect(channels).toBe(1);
    expect([...pixels]).toEqual([0, 64, 128, 255]);
  });
});

describe("html helpers", () => {
  test("escapeHtml escapes markup characters", () => {
    expect(escapeHtml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  });

  test("inlineSvg prefixes ids and their references", () => {
    const svg = `<?xml version="1.0"?><svg><clipPath id="c1"/><g clip-path="url(#c1)"><use href="#c1"/></g></svg>`;
    expect(inlineSvg(svg, "f2")).toBe(
      `<svg><clipPath id="f2-c1"/><g clip-path="url(#f2-c1)"><use href="#f2-c1"/></g></svg>`,
    );
  });
});
