import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import decode, { init } from "@jsquash/jpeg/decode.js";
import type { DecodedImage } from "./png-decode.js";

/**
 * JPEG decoded by MozJPEG compiled to WebAssembly (@jsquash/jpeg): the same decoder (libjpeg-turbo's,
 * as MozJPEG's) that sharp's libvips uses, so the same pixels, checked in test/data/jpeg-decode.test.ts
 * on baseline and progressive files, 4:4:4, 4:2:2 and 4:2:0 chroma, grey, odd sizes; without libvips's
 * per-image cost (most of sharp's millisecond on a small image). Only files it is sure of: complete
 * (ending with EOI), grey or YCbCr (no Adobe marker: CMYK and RGB JPEGs go to sharp), no ICC profile
 * (sharp converts it to sRGB), EXIF orientation absent or 1, no resize (`size` null or the image's
 * own), and for one channel grey pixels only (libvips's luminance of r = g = b is r). null: sharp.
 */

let ready: Promise<void> | null = null;

/** The parts of the WebAssembly global used here (the project's TypeScript libs do not declare it). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } })
  .WebAssembly;

/** Compiles the decoder's WebAssembly once per thread, from the package's file (no fetch). */
function decoderReady(): Promise<void> {
  ready ??= (async () => {
    const path = createRequire(import.meta.url).resolve("@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm");
    const module = await wasm.compile(readFileSync(path));
    await (init as unknown as (module: object) => Promise<void>)(module);
  })();
  return ready;
}

/** True when the bytes start with a JPEG's SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** What decides whether this decoder may be used: the header's markers up to the first scan. */
interface JpegHeader {
  height: number;
  width: number;
  components: number;
  orientation: number;
  /** An ICC profile (APP2) or an Adobe marker (APP14: CMYK, YCCK or RGB transform). */
  colourManaged: boolean;
}

const ascii = (bytes: Uint8Array, at: number, text: string) =>
  [...text].every((ch, i) => bytes[at + i] === ch.charCodeAt(0));

/** EXIF orientation (tag 0x0112 of IFD0) of an APP1 payload starting at `at`, 1 when absent. */
function exifOrientation(bytes: Uint8Array, at: number, end: number): number {
  if (!ascii(bytes, at, "Exif\0\0")) return 1;
  const tiff = at + 6;
  if (tiff + 8 > end) return 0;
  const little = bytes[tiff] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (p: number) => view.getUint16(p, little);
  const u32 = (p: number) => view.getUint32(p, little);
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return 0;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > end) return 0;
    if (u16(entry) === 0x0112) return u16(entry + 8);
  }
  return 1;
}

/** The header, or null when it cannot be walked (sharp then decides). */
function readHeader(bytes: Uint8Array): JpegHeader | null {
  let offset = 2;
  const header: JpegHeader = { height: 0, width: 0, components: 0, orientation: 1, colourManaged: false };
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1] as number;
    if (marker === 0xff) {
      offset++;
      continue;
    }
    const length = ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
    const start = offset + 4;
    const end = offset + 2 + length;
    if (end > bytes.length) return null;
    if (marker === 0xda) return header.components > 0 ? header : null; // start of scan
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      header.height = ((bytes[start + 1] as number) << 8) | (bytes[start + 2] as number);
      header.width = ((bytes[start + 3] as number) << 8) | (bytes[start + 4] as number);
      header.components = bytes[start + 5] as number;
    } else if (marker === 0xe1) {
      const orientation = exifOrientation(bytes, start, end);
      if (ascii(bytes, start, "Exif\0\0")) header.orientation = orientation;
    } else if (marker === 0xe2 && ascii(bytes, start, "ICC_PROFILE\0")) {
      header.colourManaged = true;
    } else if (marker === 0xee && ascii(bytes, start, "Adobe")) {
      header.colourManaged = true;
    }
    offset = end;
  }
  return null;
}

/**
 * The image as sharp's pipeline (rotate, flatten, grey or sRGB, 8 bits) would give it, or null when
 * this decoder cannot be sure to (the caller then asks sharp).
 */
export async function decodeJpegExact(
  bytes: Uint8Array,
  channels: 1 | 3,
  size: [number, number] | null,
): Promise<DecodedImage | null> {
  if (!isJpeg(bytes) || bytes[bytes.length - 2] !== 0xff || bytes[bytes.length - 1] !== 0xd9) return null;
  const header = readHeader(bytes);
  if (!header || header.colourManaged || header.orientation !== 1) return null;
  if (header.components !== 1 && header.components !== 3) return null;
  if (size && (size[0] !== header.height || size[1] !== header.width)) return null;
  try {
    await decoderReady();
  } catch {
    return null; // no WebAssembly decoder here (a broken install): sharp decodes every JPEG
  }
  let image: { data: Uint8ClampedArray; width: number; height: number };
  try {
    // Its own ArrayBuffer: a Buffer's may be a slice of a larger pool.
    image = await decode(new Uint8Array(bytes).buffer, { preserveOrientation: true });
  } catch {
    return null;
  }
  const { width, height } = image;
  const n = width * height;
  if (width !== header.width || height !== header.height || image.data.length !== n * 4) return null;
  const data = image.data;
  const pixels = new Uint8Array(n * channels);
  if (channels === 3) {
    for (let i = 0; i < n; i++) {
      pixels[3 * i] = data[4 * i] as number;
      pixels[3 * i + 1] = data[4 * i + 1] as number;
      pixels[3 * i + 2] = data[4 * i + 2] as number;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = data[4 * i] as number;
      if (r !== data[4 * i + 1] || r !== data[4 * i + 2]) return null;
      pixels[i] = r;
    }
  }
  return { pixels, height, width };
}
