/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__:
 * {string: string}}` padded with spaces to a multiple of 8 bytes, then the raw little-endian
 * tensor bytes. Only the dtypes curricula writes are read: F32 and I64.
 */
import { DataError } from "../util/errors.js";

export type SafeTensor =
  | { dtype: "F32"; shape: number[]; data: Float32Array }
  | { dtype: "I64"; shape: number[]; data: BigInt64Array };

export interface SafeTensorsFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeTensor["dtype"], number> = { F32: 4, I64: 8 };

/** Serialises tensors (in the map's order) and string metadata. */
export function encodeSafeTensors(
  tensors: Map<string, SafeTensor>,
  metadata: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new Error(`safetensors: '${name}' has ${t.data.length} values for shape [${t.shape.join(", ")}]`);
    }
    const bytes = size * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Parses a safetensors file; `path` names it in errors. */
export function decodeSafeTensors(bytes: Uint8Array, path: string): SafeTensorsFile {
  if (bytes.length < 8) throw new DataError(`${path}: too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) throw new DataError(`${path}: safetensors header runs past the end`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString("utf8"));
  } catch (error) {
    throw new DataError(`${path}: safetensors header is not JSON (${(error as Error).message})`);
  }
  const base = 8 + headerLength;
  const tensors = new Map<string, SafeTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    const [begin, end] = data_offsets;
    if (begin > end) throw new DataError(`${path}: '${name}' has data offsets [${begin}, ${end}]`);
    if (base + end > bytes.length) {
      throw new DataError(
        `${path}: truncated: tensor '${name}' needs bytes up to ${base + end}, the file has ${bytes.length}`,
      );
    }
    // A copy (Buffer#slice would be a view): aligned for the typed array, independent of the file.
    const raw = new Uint8Array(bytes.subarray(base + begin, base + end));
    if (dtype === "F32") {
      tensors.set(name, { dtype, shape, data: new Float32Array(raw.buffer, 0, raw.length / 4) });
    } else if (dtype === "I64") {
      tensors.set(name, { dtype, shape, data: new BigInt64Array(raw.buffer, 0, raw.length / 8) });
    } else {
      throw new DataError(`${path}: '${name}' has dtype ${dtype}; curricula reads F32 and I64`);
    }
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  return { tensors, metadata };
}
