import pngjs from "pngjs";

/**
 * PNG decoded in JavaScript (pngjs, over node's zlib) for the images whose pixels are sure to equal
 * what sharp (libvips) makes of them, at a fraction of sharp's cost for a small image; every other
 * PNG is left to sharp (null). Sure means: a complete file (IEND last, CRCs right) with only the
 * chunks below, so no orientation (eXIf), ICC profile, gamma or animation; no resize (`size` null or
 * the image's own). The conversions are libvips's, checked value by value in
 * test/data/png-decode.test.ts: alpha (or the tRNS colour) flattened on black as ⌊v·a/max⌋, 16-bit
 * samples reduced as v >> 8 after flattening, 1-, 2- and 4-bit grey scaled to 0–255, palettes
 * expanded, grey repeated for RGB. A colour image is read as grey here only when every pixel is grey
 * (libvips's luminance of r = g = b is r); 16-bit to grey is left to sharp, which rounds its own way.
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

/** True when the chunks are all plain and the file ends with IEND (nothing cut off). */
function plainChunks(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(
      bytes[offset + 4] as number,
      bytes[offset + 5] as number,
      bytes[offset + 6] as number,
      bytes[offset + 7] as number,
    );
    if (!PLAIN_CHUNKS.has(type)) return false;
    offset += 12 + length;
    if (type === "IEND") return offset === bytes.length;
  }
  return false;
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
  if (!isPng(bytes) || !plainChunks(bytes)) return null;
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
