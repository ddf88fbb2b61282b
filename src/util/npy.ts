import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { writeFileAtomicSync } from "./atomic.js";
import { DataError } from "./errors.js";

/**
 * numpy `.npy` (format 1.0) reading and writing, so per-sample outputs can be checked with any tool
 * (`numpy.load`). Supports C-order float32, float64, int32, int64 (read as int32/float64), uint8.
 */
export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export interface Npy<T extends NpyArray = NpyArray> {
  data: T;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function descrOf(data: NpyArray): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof Uint8Array) return "|u1";
  throw new Error("unsupported npy array type");
}

/**
 * The header of a `.npy` file (magic, version, dict, padding) for a dtype and shape; `length` pads
 * it to that many bytes (a multiple of 64, at least its natural size), so a header can be written
 * first and rewritten with the final shape in the same space.
 */
export function npyHeader(descr: string, shape: readonly number[], length = 0): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  let pad = (64 - (unpadded % 64)) % 64;
  if (length > unpadded + pad) pad = length - unpadded;
  header += `${" ".repeat(pad)}\n`;
  const out = new Uint8Array(MAGIC.length + 4 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** Encodes an array and its shape as the bytes of a `.npy` file. */
export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(
      `npy: shape [${shape.join(", ")}] holds ${count} values but the array has ${data.length}`,
    );
  }
  const header = npyHeader(descrOf(data), shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/** Where a `.npy` file's data start, with its dtype and shape, read from its header only. */
export function readNpyLayout(path: string): { descr: string; shape: number[]; dataOffset: number } {
  const fd = openSync(path, "r");
  try {
    const head = new Uint8Array(12);
    readSync(fd, head, 0, 12, 0);
    const headerLen =
      head[6] === 1
        ? (head[8] as number) | ((head[9] as number) << 8)
        : new DataView(head.buffer).getUint32(8, true);
    const headerStart = head[6] === 1 ? 10 : 12;
    const bytes = new Uint8Array(headerStart + headerLen);
    readSync(fd, bytes, 0, bytes.length, 0);
    const { shape, descr, offset } = parseNpyHeader(bytes, path);
    return { descr, shape, dataOffset: offset };
  } finally {
    closeSync(fd);
  }
}

/** Bytes per value of the dtypes decodeNpy reads. */
const ITEM_SIZES: Record<string, number> = { "<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8, "|u1": 1 };

/** The dtype, shape and data offset of a `.npy` file's header (the bytes hold at least the header). */
function parseNpyHeader(
  bytes: Uint8Array,
  source: string,
): { descr: string; shape: number[]; offset: number } {
  if (bytes.byteLength < 10) throw new Error(`${source}: not a .npy file (${bytes.byteLength} bytes)`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new Error(`${source}: not a .npy file (bad magic)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder("latin1").decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${source}: unreadable .npy header`);
  if (fortran === "True") throw new Error(`${source}: Fortran-ordered .npy arrays are not supported`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`${source}: unreadable .npy shape (${shapeText})`);
  return { descr, shape, offset: headerStart + headerLen };
}

/** Parses the bytes of a `.npy` file. int64 data are returned as Int32Array (values must fit). */
export function decodeNpy(bytes: Uint8Array, source = "<buffer>"): Npy {
  const { descr, shape, offset } = parseNpyHeader(bytes, source);
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = ITEM_SIZES[descr];
  if (itemSize === undefined) throw new Error(`${source}: unsupported .npy dtype '${descr}'`);
  const expected = count * itemSize;
  const present = bytes.byteLength - offset;
  if (present < expected) {
    throw new Error(
      `${source}: truncated .npy file: its header says shape (${shape.join(", ")}) of ${descr} = ${expected} bytes of data, ` +
        `the file holds ${Math.max(0, present)}`,
    );
  }
  // Copy into a fresh, aligned buffer (a Node Buffer's slice() would be a view into a shared pool).
  const raw = new Uint8Array(bytes.byteLength - offset);
  raw.set(bytes.subarray(offset));
  let data: NpyArray;
  switch (descr) {
    case "<f4":
      data = new Float32Array(raw.buffer, 0, count);
      break;
    case "<f8":
      data = new Float64Array(raw.buffer, 0, count);
      break;
    case "<i4":
      data = new Int32Array(raw.buffer, 0, count);
      break;
    case "<i8": {
      const big = new BigInt64Array(raw.buffer, 0, count);
      data = Int32Array.from(big, (v) => Number(v));
      break;
    }
    case "|u1":
      data = new Uint8Array(raw.buffer, 0, count);
      break;
    default:
      throw new Error(`${source}: unsupported .npy dtype '${descr}'`);
  }
  return { data, shape };
}

/** Writes a `.npy` file atomically. */
export function saveNpy(path: string, data: NpyArray, shape: readonly number[]): void {
  writeFileAtomicSync(path, encodeNpy(data, shape));
}

/** Reads a `.npy` file; a damaged one is a DataError naming the file and what was expected. */
export function loadNpy(path: string): Npy {
  try {
    return decodeNpy(readFileSync(path), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw error;
    throw new DataError((error as Error).message);
  }
}
