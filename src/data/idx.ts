import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DataError } from "../util/errors.js";

/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/):
 * a big-endian header `0x00 0x00 <type> <ndim>` (type 0x08 = unsigned byte, so images are
 * 0x00000803 and labels 0x00000801), `ndim` uint32 dimensions, then the values. Plain or gzipped.
 */
export interface IdxArray {
  dims: number[];
  /** A view into the decoded file (no copy). */
  data: Uint8Array;
}

const UBYTE = 0x08;

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Parses IDX bytes. `limit` keeps the first `limit` items (along the first dimension).
 * `expectDims` checks the number of dimensions (3 for images, 1 for labels).
 */
export function parseIdx(
  bytes: Uint8Array,
  source: string,
  options: { expectDims?: number; limit?: number } = {},
): IdxArray {
  const raw = isGzip(bytes) ? decompress(bytes, source) : bytes;
  if (raw.length < 4) throw new DataError(`${source}: not an IDX file (only ${raw.length} bytes)`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const magic = view.getUint32(0, false);
  const type = raw[2] as number;
  const ndim = raw[3] as number;
  if (raw[0] !== 0 || raw[1] !== 0 || ndim === 0) {
    throw new DataError(`${source}: not an IDX file (magic 0x${magic.toString(16).padStart(8, "0")})`);
  }
  if (type !== UBYTE) {
    throw new DataError(
      `${source}: IDX value type 0x${type.toString(16)} is not supported (expected 0x08, unsigned byte)`,
    );
  }
  if (options.expectDims !== undefined && ndim !== options.expectDims) {
    const want = (0x800 + options.expectDims).toString(16).padStart(8, "0");
    throw new DataError(
      `${source}: IDX magic 0x${magic.toString(16).padStart(8, "0")} has ${ndim} dimensions, expected ${options.expectDims} (magic 0x${want})`,
    );
  }
  const headerSize = 4 + 4 * ndim;
  if (raw.length < headerSize) throw new DataError(`${source}: truncated IDX header`);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (options.limit !== undefined && options.limit < (dims[0] as number)) dims[0] = options.limit;
  const count = dims.reduce((a, b) => a * b, 1);
  if (raw.length < headerSize + count) {
    throw new DataError(
      `${source}: truncated IDX file (${raw.length - headerSize} values after the header, expected ${count} for dims [${dims.join(", ")}])`,
    );
  }
  return { dims, data: raw.subarray(headerSize, headerSize + count) };
}

function decompress(bytes: Uint8Array, source: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DataError(`${source}: cannot decompress gzip data: ${(error as Error).message}`);
  }
}

/**
 * Reads an IDX file (plain or `.gz`). For a plain file with a `limit`, only the header and the
 * first `limit` items are read from disk.
 */
export function readIdxFile(path: string, options: { expectDims?: number; limit?: number } = {}): IdxArray {
  if (!existsSync(path)) throw new DataError(`${path}: file not found`);
  if (options.limit !== undefined && !path.endsWith(".gz")) {
    const partial = readPlainPrefix(path, options.expectDims ?? 0, options.limit);
    if (partial) return parseIdx(partial, path, options);
  }
  return parseIdx(readFileSync(path), path, options);
}

/** Reads just enough of a plain IDX file for `limit` items; null when the file is gzipped. */
function readPlainPrefix(path: string, expectDims: number, limit: number): Uint8Array | null {
  const fd = openSync(path, "r");
  try {
    const head = new Uint8Array(4);
    readSync(fd, head, 0, 4, 0);
    if (isGzip(head)) return null;
    const ndim = head[3] as number;
    if (head[0] !== 0 || head[1] !== 0 || ndim === 0 || (expectDims && ndim !== expectDims)) {
      return null; // let parseIdx report the problem on the full file
    }
    const dimBytes = new Uint8Array(4 * ndim);
    readSync(fd, dimBytes, 0, dimBytes.length, 4);
    const view = new DataView(dimBytes.buffer);
    let itemSize = 1;
    for (let i = 1; i < ndim; i++) itemSize *= view.getUint32(4 * i, false);
    const items = Math.min(limit, view.getUint32(0, false));
    const total = 4 + 4 * ndim + items * itemSize;
    const out = new Uint8Array(total);
    let done = 0;
    while (done < total) {
      const n = readSync(fd, out, done, total - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === total ? out : out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Encodes an unsigned-byte IDX array (for tests and fixtures). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const headerSize = 4 + 4 * dims.length;
  const out = new Uint8Array(headerSize + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x800 + dims.length, false);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(data, headerSize);
  return out;
}
