import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp, { type Sharp } from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { readIdxFile } from "../../src/data/idx.js";
import { decodeImage, loadSharp } from "../../src/data/image-folder.js";
import { FASHION_MNIST_DEFAULT_PATH } from "../../src/data/index.js";
import { decodeJpegExact } from "../../src/data/jpeg-decode.js";
import { describeWith, systemFile } from "../support/system.js";
import { tempDir } from "../training/helpers.js";

/**
 * The WebAssembly MozJPEG path gives the cache the very bytes sharp gives (MozJPEG is sharp's JPEG
 * decoder too), or declines (null) so that sharp decodes the file.
 */

const root = tempDir("jpeg-decode");
afterAll(() => rmSync(root, { recursive: true, force: true }));
let written = 0;

async function viaSharp(bytes: Uint8Array, channels: 1 | 3): Promise<Uint8Array> {
  const file = join(root, `f${written++}.jpg`);
  writeFileSync(file, bytes);
  return (await decodeImage(await loadSharp(), file, "test", { size: null, resize: "stretch", channels }))
    .pixels;
}

async function expectSharpBytes(bytes: Uint8Array, channels: 1 | 3, label: string): Promise<void> {
  const fast = await decodeJpegExact(bytes, channels, null);
  expect(fast, `${label}: the WebAssembly decoder takes it`).not.toBeNull();
  const want = await viaSharp(bytes, channels);
  const got = fast?.pixels as Uint8Array;
  expect(got.length, label).toBe(want.length);
  let first = -1;
  for (let i = 0; i < want.length && first < 0; i++) if (got[i] !== want[i]) first = i;
  expect(first, `${label}: first differing byte (got ${got[first]}, sharp ${want[first]})`).toBe(-1);
}

const fashion = systemFile(
  join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz"),
  "dataset-fashion-mnist",
);

describeWith(fashion, "decodeJpegExact on real Fashion-MNIST images", () => {
  /** Image i as an RGB raw picture of w × h (resized, coloured: the image, its negative, a ramp). */
  let images: ReturnType<typeof readIdxFile> | null = null;
  async function picture(i: number, w: number, h: number): Promise<Sharp> {
    images ??= readIdxFile(join(FASHION_MNIST_DEFAULT_PATH, "train-images-idx3-ubyte.gz"), {
      expectDims: 3,
      limit: 8,
    });
    const grey = Buffer.from(images.data.subarray(i * 784, (i + 1) * 784));
    const rgb = Buffer.alloc(784 * 3);
    for (let p = 0; p < 784; p++)
      rgb.set([grey[p] as number, 255 - (grey[p] as number), (p * 9) % 256], 3 * p);
    const raw = await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } })
      .resize(w, h, { fit: "fill" })
      .raw()
      .toBuffer();
    return sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  }

  it("baseline and progressive, 4:4:4 and 4:2:0 chroma, qualities, odd sizes, grey: sharp's bytes", async () => {
    const variants: [string, (s: Sharp) => Sharp][] = [
      ["q90 4:2:0", (s) => s.jpeg({ quality: 90 })],
      ["q50 4:4:4", (s) => s.jpeg({ quality: 50, chromaSubsampling: "4:4:4" })],
      ["q95 progressive", (s) => s.jpeg({ quality: 95, progressive: true })],
      ["mozjpeg defaults", (s) => s.jpeg({ mozjpeg: true })],
      ["q75 restart-free, optimised", (s) => s.jpeg({ quality: 75, optimiseCoding: true })],
    ];
    for (const [i, [w, h]] of [
      [64, 64],
      [37, 53],
      [17, 9],
    ].entries()) {
      for (const [label, encode] of variants) {
        const bytes = await encode(await picture(i, w as number, h as number)).toBuffer();
        await expectSharpBytes(bytes, 3, `${label} ${w}×${h}`);
      }
      const grey = await (await picture(i, w as number, h as number))
        .greyscale()
        .jpeg({ quality: 85 })
        .toBuffer();
      await expectSharpBytes(grey, 1, `grey ${w}×${h} → 1`);
      await expectSharpBytes(grey, 3, `grey ${w}×${h} → 3`);
    }
  });

  it("declines orientation, ICC profiles, CMYK, cut files, a resize and colour as grey", async () => {
    const base = await picture(3, 20, 12);
    const plain = await base.clone().jpeg().toBuffer();
    const oriented = await base.clone().withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const upright = await base
      .clone()
      .withExif({ IFD0: { Orientation: "1", Software: "test" } })
      .jpeg()
      .toBuffer();
    const profiled = await base.clone().withIccProfile("p3").jpeg().toBuffer();
    const cmyk = await base.clone().toColourspace("cmyk").jpeg().toBuffer();
    expect(await decodeJpegExact(plain, 3, null)).not.toBeNull();
    expect(await decodeJpegExact(upright, 3, null), "EXIF orientation 1").not.toBeNull();
    expect(await decodeJpegExact(oriented, 3, null), "EXIF orientation 6").toBeNull();
    expect(await decodeJpegExact(profiled, 3, null), "ICC profile").toBeNull();
    expect(await decodeJpegExact(cmyk, 3, null), "CMYK").toBeNull();
    expect(await decodeJpegExact(plain.subarray(0, plain.length - 40), 3, null), "cut").toBeNull();
    expect(await decodeJpegExact(plain, 3, [10, 10]), "resize").toBeNull();
    const own = await decodeJpegExact(plain, 3, [12, 20]);
    const file = join(root, "own-size.jpg");
    writeFileSync(file, plain);
    for (const resize of ["stretch", "crop", "pad"] as const) {
      const want = await decodeImage(await loadSharp(), file, "test", {
        size: [12, 20],
        resize,
        channels: 3,
      });
      expect(
        Buffer.from(own?.pixels as Uint8Array).equals(Buffer.from(want.pixels)),
        `image_size its own size, ${resize}`,
      ).toBe(true);
    }
    expect(await decodeJpegExact(plain, 1, null), "colour to grey").toBeNull();
  });
});

describe("decodeJpegExact", () => {
  it("declines what is not a JPEG", async () => {
    expect(await decodeJpegExact(Buffer.from("not an image at all"), 3, null)).toBeNull();
  });
});
