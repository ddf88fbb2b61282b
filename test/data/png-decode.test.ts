import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import sharp, { type Sharp } from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/config/package.js";
import { readIdxFile } from "../../src/data/idx.js";
import { decodeImage, loadSharp } from "../../src/data/image-folder.js";
import { FastDecoderPool } from "../../src/data/image-workers.js";
import { FASHION_MNIST_DEFAULT_PATH } from "../../src/data/index.js";
import { decodePngExact } from "../../src/data/png-decode.js";
import { describeWith, systemFile } from "../support/system.js";
import { tempDir } from "../training/helpers.js";

/**
 * The JavaScript PNG path gives the cache the very bytes sharp gives (the cache's content does not
 * depend on which decoder ran), value by value over whole sample ranges, or declines (null) so that
 * sharp decodes the file.
 */

const root = tempDir("png-decode");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let written = 0;

/** What sharp's pipeline of ImageFolder gives for these bytes. */
async function viaSharp(bytes: Uint8Array, channels: 1 | 3): Promise<Uint8Array> {
  const file = join(root, `f${written++}.png`);
  writeFileSync(file, bytes);
  const image = await decodeImage(await loadSharp(), file, "test", {
    size: null,
    resize: "stretch",
    channels,
  });
  return image.pixels;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG written by hand: `samples` row-major (one value per sample, at `depth` bits), every filter
 * type, the extra chunks given (before IDAT), so that every colour type, bit depth and tRNS is made.
 */
function craftPng(o: {
  width: number;
  height: number;
  colorType: 0 | 2 | 3 | 4 | 6;
  depth: 1 | 2 | 4 | 8 | 16;
  samples: ArrayLike<number>;
  extra?: [string, Uint8Array][];
}): Buffer {
  const perPixel = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[o.colorType];
  const rowBits = o.width * perPixel * o.depth;
  const rowBytes = Math.ceil(rowBits / 8);
  const raw = Buffer.alloc((rowBytes + 1) * o.height);
  for (let y = 0; y < o.height; y++) {
    const row = y * (rowBytes + 1) + 1;
    for (let s = 0; s < o.width * perPixel; s++) {
      const v = o.samples[y * o.width * perPixel + s] as number;
      if (o.depth === 16) raw.writeUInt16BE(v, row + 2 * s);
      else if (o.depth === 8) raw[row + s] = v;
      else {
        const bit = s * o.depth;
        raw[row + (bit >> 3)] = (raw[row + (bit >> 3)] as number) | (v << (8 - o.depth - (bit & 7)));
      }
    }
  }
  // Row y filtered with filter type y mod 5 (none, sub, up, average, Paeth), as encoders choose.
  const bpp = Math.max(1, (perPixel * o.depth) >> 3);
  const filtered = Buffer.from(raw);
  for (let y = 0; y < o.height; y++) {
    const row = y * (rowBytes + 1) + 1;
    const type = y % 5;
    filtered[row - 1] = type;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? (raw[row + x - bpp] as number) : 0;
      const b = y > 0 ? (raw[row + x - rowBytes - 1] as number) : 0;
      const c = x >= bpp && y > 0 ? (raw[row + x - rowBytes - 1 - bpp] as number) : 0;
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][type] as number;
      filtered[row + x] = ((raw[row + x] as number) - predictor) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(o.width, 0);
  ihdr.writeUInt32BE(o.height, 4);
  ihdr[8] = o.depth;
  ihdr[9] = o.colorType;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk("IHDR", ihdr),
    ...(o.extra ?? []).map(([type, data]) => chunk(type, data)),
    chunk("IDAT", deflateSync(filtered)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** Deterministic pseudo-random samples below `max + 1`. */
function noise(n: number, max: number, seed = 1): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % (max + 1);
  });
}

const u16 = (...values: number[]) => {
  const b = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => {
    b.writeUInt16BE(v, 2 * i);
  });
  return b;
};

/** Expects the JS decoder to take the file and give sharp's bytes (or, `declines`, to leave it to sharp). */
async function expectSharpBytes(bytes: Uint8Array, channels: 1 | 3, label: string): Promise<void> {
  const fast = decodePngExact(bytes, channels, null);
  expect(fast, `${label}: the JS decoder takes it`).not.toBeNull();
  const want = await viaSharp(bytes, channels);
  const got = fast?.pixels as Uint8Array;
  expect(got.length, label).toBe(want.length);
  let first = -1;
  for (let i = 0; i < want.length && first < 0; i++) if (got[i] !== want[i]) first = i;
  expect(first, `${label}: first differing byte (got ${got[first]}, sharp ${want[first]})`).toBe(-1);
}

describe("decodePngExact gives sharp's bytes", () => {
  // Every sample value (and every grey × alpha pair) of each layout, both channel counts.
  const all8 = Array.from({ length: 256 }, (_, v) => v);
  const pairs = Array.from({ length: 65536 }, (_, i) => [i >> 8, i & 255]).flat();
  const cases: [string, Buffer, (1 | 3)[]][] = [
    ["grey 8-bit", craftPng({ width: 16, height: 16, colorType: 0, depth: 8, samples: all8 }), [1, 3]],
    [
      "grey 16-bit",
      craftPng({
        width: 256,
        height: 256,
        colorType: 0,
        depth: 16,
        samples: Array.from({ length: 65536 }, (_, v) => v),
      }),
      [3],
    ],
    [
      "grey + alpha 8-bit",
      craftPng({ width: 256, height: 256, colorType: 4, depth: 8, samples: pairs }),
      [1, 3],
    ],
    [
      "grey + alpha 16-bit",
      craftPng({ width: 128, height: 128, colorType: 4, depth: 16, samples: noise(2 * 16384, 65535) }),
      [3],
    ],
    [
      "RGB 8-bit",
      craftPng({ width: 64, height: 64, colorType: 2, depth: 8, samples: noise(3 * 4096, 255) }),
      [3],
    ],
    [
      "RGBA 8-bit",
      craftPng({ width: 64, height: 64, colorType: 6, depth: 8, samples: noise(4 * 4096, 255, 2) }),
      [3],
    ],
    [
      "RGB 16-bit",
      craftPng({ width: 64, height: 64, colorType: 2, depth: 16, samples: noise(3 * 4096, 65535, 3) }),
      [3],
    ],
    [
      "RGBA 16-bit",
      craftPng({ width: 64, height: 64, colorType: 6, depth: 16, samples: noise(4 * 4096, 65535, 4) }),
      [3],
    ],
    [
      // Colour type RGB holding grey pixels, with alpha: read as grey too.
      "RGBA 8-bit, grey pixels",
      craftPng({
        width: 256,
        height: 256,
        colorType: 6,
        depth: 8,
        samples: Array.from({ length: 65536 }, (_, i) => [i >> 8, i >> 8, i >> 8, i & 255]).flat(),
      }),
      [1, 3],
    ],
    ...([1, 2, 4] as const).map((depth): [string, Buffer, (1 | 3)[]] => [
      `grey ${depth}-bit`,
      craftPng({
        width: 1 << depth,
        height: 3,
        colorType: 0,
        depth,
        samples: noise(3 << depth, (1 << depth) - 1),
      }),
      [1, 3],
    ]),
    [
      "grey 8-bit with a tRNS grey",
      craftPng({ width: 16, height: 16, colorType: 0, depth: 8, samples: all8, extra: [["tRNS", u16(77)]] }),
      [1, 3],
    ],
    [
      "grey 16-bit with a tRNS grey",
      craftPng({
        width: 16,
        height: 16,
        colorType: 0,
        depth: 16,
        samples: all8.map((v) => v * 257),
        extra: [["tRNS", u16(77 * 257)]],
      }),
      [3],
    ],
    [
      "RGB 8-bit with a tRNS colour",
      craftPng({
        width: 16,
        height: 16,
        colorType: 2,
        depth: 8,
        samples: all8.flatMap((v) => [v, 255 - v, v % 7]),
        extra: [["tRNS", u16(40, 215, 5)]],
      }),
      [3],
    ],
    [
      "palette 8-bit with tRNS alphas",
      craftPng({
        width: 16,
        height: 16,
        colorType: 3,
        depth: 8,
        samples: all8,
        extra: [
          ["PLTE", Uint8Array.from(noise(768, 255, 5))],
          ["tRNS", Uint8Array.from(noise(200, 255, 6))],
        ],
      }),
      [3],
    ],
    [
      "palette 4-bit of greys",
      craftPng({
        width: 16,
        height: 4,
        colorType: 3,
        depth: 4,
        samples: noise(64, 15, 7),
        extra: [["PLTE", Uint8Array.from({ length: 48 }, (_, i) => Math.floor(i / 3) * 17)]],
      }),
      [1, 3],
    ],
  ];
  for (const [label, bytes, channelCounts] of cases) {
    it(`${label}: ${channelCounts.join(" and ")} channel(s)`, async () => {
      for (const channels of channelCounts) await expectSharpBytes(bytes, channels, `${label} → ${channels}`);
    });
  }

  it("image_size equal to the image's own size: sharp's bytes in every resize mode", async () => {
    const bytes = craftPng({
      width: 23,
      height: 17,
      colorType: 6,
      depth: 8,
      samples: noise(4 * 391, 255, 9),
    });
    const file = join(root, "own-size.png");
    writeFileSync(file, bytes);
    const fast = decodePngExact(bytes, 3, [17, 23]);
    for (const resize of ["stretch", "crop", "pad"] as const) {
      const want = await decodeImage(await loadSharp(), file, "test", {
        size: [17, 23],
        resize,
        channels: 3,
      });
      expect(Buffer.from(fast?.pixels as Uint8Array).equals(Buffer.from(want.pixels)), resize).toBe(true);
    }
  });

  it("an interlaced (Adam7) PNG written by sharp", async () => {
    const bytes = await sharp(Buffer.from(noise(3 * 37 * 29, 255, 8)), {
      raw: { width: 37, height: 29, channels: 3 },
    })
      .png({ progressive: true })
      .toBuffer();
    await expectSharpBytes(bytes, 3, "interlaced RGB");
  });
});

describe("decodePngExact declines what it cannot be sure of (sharp decodes it)", () => {
  const grey = craftPng({ width: 4, height: 4, colorType: 0, depth: 8, samples: noise(16, 255) });
  it("orientation, ICC profile, gamma, a cut or damaged file, a resize, colour as grey, 16-bit as grey", async () => {
    const oriented = await sharp(grey).withMetadata({ orientation: 6 }).png().toBuffer();
    const profiled = await sharp(Buffer.from(noise(48, 255)), { raw: { width: 4, height: 4, channels: 3 } })
      .withIccProfile("p3")
      .png()
      .toBuffer();
    const gamma = craftPng({
      width: 4,
      height: 4,
      colorType: 0,
      depth: 8,
      samples: noise(16, 255),
      extra: [["gAMA", Uint8Array.from([0, 0, 0xb1, 0x8f])]],
    });
    const damaged = Buffer.from(grey);
    damaged[45] = (damaged[45] as number) ^ 0xff; // inside IDAT: its CRC no longer matches
    const colour = craftPng({ width: 4, height: 4, colorType: 2, depth: 8, samples: noise(48, 255) });
    const sixteen = craftPng({ width: 4, height: 4, colorType: 0, depth: 16, samples: noise(16, 65535) });
    expect(decodePngExact(grey, 1, null)).not.toBeNull();
    expect(decodePngExact(oriented, 1, null), "eXIf orientation").toBeNull();
    expect(decodePngExact(profiled, 3, null), "iCCP").toBeNull();
    expect(decodePngExact(gamma, 1, null), "gAMA").toBeNull();
    expect(decodePngExact(grey.subarray(0, grey.length - 20), 1, null), "cut").toBeNull();
    expect(decodePngExact(damaged, 1, null), "bad CRC").toBeNull();
    expect(decodePngExact(grey, 1, [8, 8]), "resize").toBeNull();
    expect(decodePngExact(grey, 1, [4, 4]), "image_size its own size").not.toBeNull();
    expect(decodePngExact(colour, 1, null), "colour to grey").toBeNull();
    expect(decodePngExact(sixteen, 1, null), "16-bit to grey").toBeNull();
  });
});

const fashion = systemFile(
  join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz"),
  "dataset-fashion-mnist",
);

describeWith(fashion, "real Fashion-MNIST images as PNG", () => {
  it("8- and 16-bit grey, RGB, RGBA and palette: the worker threads give sharp's bytes", async () => {
    const n = 40;
    const images = readIdxFile(join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz"), {
      expectDims: 3,
      limit: n,
    });
    const dir = join(root, "fashion");
    mkdirSync(dir, { recursive: true });
    const files: string[] = [];
    const variants = ["grey8", "grey16", "rgb", "rgba", "palette"] as const;
    for (let i = 0; i < n; i++) {
      const grey = Buffer.from(images.data.subarray(i * 784, (i + 1) * 784));
      const variant = variants[i % variants.length] as (typeof variants)[number];
      // Colour versions: the image in one channel, its negative and a ramp in the others; alpha varies.
      const rgba = Buffer.alloc(784 * 4);
      for (let p = 0; p < 784; p++) {
        const v = grey[p] as number;
        rgba.set([v, 255 - v, p % 256, (v * 3 + p) % 256], 4 * p);
      }
      let image: Sharp;
      if (variant === "grey8") image = sharp(grey, { raw: { width: 28, height: 28, channels: 1 } }).png();
      else if (variant === "grey16")
        image = sharp(grey, { raw: { width: 28, height: 28, channels: 1 } })
          .toColourspace("grey16")
          .png();
      else if (variant === "rgb")
        image = sharp(rgba, { raw: { width: 28, height: 28, channels: 4 } })
          .removeAlpha()
          .png();
      else if (variant === "rgba") image = sharp(rgba, { raw: { width: 28, height: 28, channels: 4 } }).png();
      else image = sharp(rgba, { raw: { width: 28, height: 28, channels: 4 } }).png({ palette: true });
      const file = join(dir, `${i}-${variant}.png`);
      await image.toFile(file);
      files.push(file);
    }
    const pool = new FastDecoderPool(2);
    // Worker threads when the compiled module is there (`npm test` builds it first), else this thread.
    expect(pool.threads).toBe(existsSync(join(PACKAGE_ROOT, "dist", "data", "image-workers.js")) ? 2 : 0);
    try {
      for (const channels of [1, 3] as const) {
        const decoded = await pool.decode(files, channels, null);
        for (const [i, file] of files.entries()) {
          const want = (
            await decodeImage(await loadSharp(), file, "test", { size: null, resize: "stretch", channels })
          ).pixels;
          const got = decoded[i];
          const colourAsGrey = channels === 1 && !/grey/.test(file);
          const sixteenAsGrey = channels === 1 && /grey16/.test(file);
          if (colourAsGrey || sixteenAsGrey) {
            expect(got, `${file} → ${channels}: left to sharp`).toBeNull();
            continue;
          }
          expect(got, `${file} → ${channels}: decoded`).not.toBeNull();
          expect(
            Buffer.from(got?.pixels as Uint8Array).equals(Buffer.from(want)),
            `${file} → ${channels}`,
          ).toBe(true);
        }
      }
    } finally {
      await pool.close();
    }
  });
});
