import * as zlib from "node:zlib";
import pngjs from "pngjs";

/**
 * PNG decoded in JavaScript for the images whose pixels are sure to equal what sharp (libvips) makes
 * of them, at a fraction of sharp's cost for a small image (about a millisecond of libvips machinery
 * per image, whatever its size); every other PNG is left to sharp (null). 8-bit grey, grey + alpha,
 * RGB and RGBA files that are not interlaced are inflated by node's zlib and unfiltered here (the
 * common case, a third of pngjs's cost); the other layouts (1- to 16-bit, palettes, tRNS, Adam7)
 * through pngjs. Sure means: a complete file (IEND last, CRCs right) with only the chunks below, so
 * no orientation (eXIf), ICC profile, gamma or animation; no resize (`size` null or the image's own).
 * The conversions are libvips's, checked value by value in test/data/png-decode.test.ts: alpha (or
 * the tRNS colour) flattened on black as ⌊v·a/max⌋, 16-bit samples reduced as v >> 8 after
 * flattening, 1-, 2- and 4-bit grey scaled to 0–255, palettes expanded, grey repeated for RGB. A
 * colour image is read as grey here only when every pixel is grey (libvips's luminance of r = g = b
 * is r); 16-bit to grey is left to sharp, which rounds its own way.
 */

/** Chunks that change nothing in libvips's pixels: anything else sends the file to sharp. */
const PLAIN_CHUNKS = new Set([
  "IHDR",
  "PLTE",
  "IDAT",
  "IEND",
  "tRNS",
  "tEXt",
  "zTXt",
  "iTXt",
  "pHYs",
  "tIME",
  "bKGD",
  "sBIT",
]);
const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** One image decoded: uint8 pixels h × w × channels, channels-last. */
export interface DecodedImage {
  pixels: Uint8Array;
  height: number;
  width: number;
}

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** zlib's CRC-32 in C (Node 20.15 and later); without it every PNG goes through pngjs. */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** The chunks of a complete file with only plain chunks (IEND last, CRCs right if `checkCrc`), or null. */
function plainChunks(bytes: Uint8Array, checkCrc: boolean): { type: string; data: Uint8Array }[] | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: { type: string; data: Uint8Array }[] = [];
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(
      bytes[offset + 4] as number,
      bytes[offset + 5] as number,
      bytes[offset + 6] as number,
      bytes[offset + 7] as number,
    );
    if (!PLAIN_CHUNKS.has(type) || offset + 12 + length > bytes.length) return null;
    if (
      checkCrc &&
      crc32?.(bytes.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)
    )
      return null;
    chunks.push({ type, data: bytes.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
    if (type === "IEND") return offset === bytes.length ? chunks : null;
  }
  return null;
}

/** The Paeth predictor of the PNG specification. */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * The common case without pngjs (a third of its cost on small images): 8-bit grey, grey + alpha,
 * RGB or RGBA, not interlaced, no tRNS; the zlib stream inflated by node's zlib and unfiltered here.
 * undefined: not this case (pngjs then decodes it); null: the file is damaged (sharp says how).
 */
function decodePlain8(
  chunks: { type: string; data: Uint8Array }[],
  channels: 1 | 3,
  size: [number, number] | null,
): DecodedImage | null | undefined {
  const ihdr = chunks[0];
  if (!crc32 || ihdr?.type !== "IHDR" || ihdr.data.length !== 13) return undefined;
  const head = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, 13);
  const width = head.getUint32(0);
  const height = head.getUint32(4);
  const [depth, colorType, , , interlace] = ihdr.data.subarray(8) as unknown as number[];
  const k = colorType === 0 ? 1 : colorType === 2 ? 3 : colorType === 4 ? 2 : colorType === 6 ? 4 : 0;
  if (depth !== 8 || k === 0 || interlace !== 0 || chunks.some((c) => c.type === "tRNS")) return undefined;
  if (size && (size[0] !== height || size[1] !== width)) return null;
  const idat = chunks.filter((c) => c.type === "IDAT").map((c) => c.data);
  let raw: Uint8Array;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? (idat[0] as Uint8Array) : Buffer.concat(idat));
  } catch {
    return null;
  }
  const stride = width * k;
  if (raw.length !== height * (stride + 1)) return null;
  // Unfilter in place: row y's bytes at y·(stride + 1) + 1, its filter type before them.
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1;
    const up = row - stride - 1;
    const filter = raw[row - 1];
    if (filter === 0) continue;
    for (let x = 0; x < stride; x++) {
      const a = x >= k ? (raw[row + x - k] as number) : 0;
      const b = y > 0 ? (raw[up + x] as number) : 0;
      const c = x >= k && y > 0 ? (raw[up + x - k] as number) : 0;
      const v = raw[row + x] as number;
      if (filter === 1) raw[row + x] = v + a;
      else if (filter === 2) raw[row + x] = v + b;
      else if (filter === 3) raw[row + x] = v + ((a + b) >> 1);
      else if (filter === 4) raw[row + x] = v + paeth(a, b, c);
      else return null;
    }
  }
  const n = width * height;
  const pixels = new Uint8Array(n * channels);
  for (let y = 0, i = 0; y < height; y++) {
    let p = y * (stride + 1) + 1;
    for (let x = 0; x < width; x++, i++, p += k) {
      let r = raw[p] as number;
      let g = k >= 3 ? (raw[p + 1] as number) : r;
      let b = k >= 3 ? (raw[p + 2] as number) : r;
      if (k === 2 || k === 4) {
        const alpha = raw[p + k - 1] as number;
        if (alpha !== 255) {
          r = Math.floor((r * alpha) / 255);
          g = Math.floor((g * alpha) / 255);
          b = Math.floor((b * alpha) / 255);
        }
      }
      if (channels === 1) {
        if (r !== g || g !== b) return null;
        pixels[i] = r;
      } else {
        pixels[3 * i] = r;
        pixels[3 * i + 1] = g;
        pixels[3 * i + 2] = b;
      }
    }
  }
  return { pixels, height, width };
}

/**
 * The image as sharp's pipeline (rotate, flatten on black, grey or sRGB, 8 bits) would give it, or
 * null when this decoder cannot be sure to (the caller then asks sharp).
 */
export function decodePngExact(
  bytes: Uint8Array,
  channels: 1 | 3,
  size: [number, number] | null,
): DecodedImage | null {
  if (!isPng(bytes)) return null;
  const chunks = plainChunks(bytes, crc32 !== undefined);
  if (!chunks) return null;
  const plain = decodePlain8(chunks, channels, size);
  if (plain !== undefined) return plain;
  const depth = bytes[24] as number; // IHDR's bit depth
  if (depth === 16 && channels === 1) return null;
  let png: pngjs.PNGWithMetadata;
  try {
    png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      checkCRC: true,
      skipRescale: depth === 16,
    });
  } catch {
    return null;
  }
  const { width, height } = png;
  if (size && (size[0] !== height || size[1] !== width)) return null;
  const n = width * height;
  // RGBA, 8 bits (16 bits for a 16-bit file): palettes expanded, the tRNS colour made transparent.
  const data = png.data as unknown as ArrayLike<number>;
  if (data.length !== n * 4) return null;
  const max = depth === 16 ? 65535 : 255;
  const shift = depth === 16 ? 8 : 0;
  const pixels = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const base = 4 * i;
    let r = data[base] as number;
    let g = data[base + 1] as number;
    let b = data[base + 2] as number;
    const a = data[base + 3] as number;
    if (a !== max) {
      r = Math.floor((r * a) / max);
      g = Math.floor((g * a) / max);
      b = Math.floor((b * a) / max);
    }
    if (channels === 1) {
      if (r !== g || g !== b) return null;
      pixels[i] = r;
    } else {
      pixels[3 * i] = r >> shift;
      pixels[3 * i + 1] = g >> shift;
      pixels[3 * i + 2] = b >> shift;
    }
  }
  return { pixels, height, width };
}
