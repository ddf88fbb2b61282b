/**
 * PNG and JPEG files decoded on worker threads (node:worker_threads), one per core of the process's
 * share: each worker reads its files and decodes them with `decodePngExact` or `decodeJpegExact`,
 * and answers, per file, the pixels or "not here" (then the caller decodes that file with sharp).
 * This module is also the workers' entry. Without the compiled module (running from the TypeScript
 * sources) or with a share of one core, the same functions run on the calling thread.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { PACKAGE_ROOT } from "../config/package.js";
import { decodeJpegExact, isJpeg } from "./jpeg-decode.js";
import { type DecodedImage, decodePngExact, isPng } from "./png-decode.js";

interface DecodeRequest {
  id: number;
  files: string[];
  channels: 1 | 3;
  size: [number, number] | null;
}

/** Per file: height and width (0 × 0: left to sharp); the pixels of the decoded ones, concatenated. */
interface DecodeReply {
  id: number;
  shapes: Int32Array;
  pixels: Uint8Array;
  error?: string;
}

/** Decodes the files it can; null for the others (unreadable, another format, or not sure to equal sharp). */
export async function decodeFiles(
  files: readonly string[],
  channels: 1 | 3,
  size: [number, number] | null,
): Promise<(DecodedImage | null)[]> {
  const out: (DecodedImage | null)[] = [];
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch {
      out.push(null);
      continue;
    }
    if (isPng(bytes)) out.push(decodePngExact(bytes, channels, size));
    else if (isJpeg(bytes)) out.push(await decodeJpegExact(bytes, channels, size));
    else out.push(null);
  }
  return out;
}

function pack(id: number, images: (DecodedImage | null)[]): DecodeReply {
  const shapes = new Int32Array(images.length * 2);
  let bytes = 0;
  images.forEach((image, i) => {
    if (!image) return;
    shapes[2 * i] = image.height;
    shapes[2 * i + 1] = image.width;
    bytes += image.pixels.length;
  });
  const pixels = new Uint8Array(bytes);
  let offset = 0;
  for (const image of images) {
    if (!image) continue;
    pixels.set(image.pixels, offset);
    offset += image.pixels.length;
  }
  return { id, shapes, pixels };
}

function unpack(reply: DecodeReply, channels: number): (DecodedImage | null)[] {
  const out: (DecodedImage | null)[] = [];
  let offset = 0;
  for (let i = 0; i < reply.shapes.length / 2; i++) {
    const height = reply.shapes[2 * i] as number;
    const width = reply.shapes[2 * i + 1] as number;
    if (height === 0) {
      out.push(null);
      continue;
    }
    const bytes = height * width * channels;
    out.push({ pixels: reply.pixels.subarray(offset, offset + bytes), height, width });
    offset += bytes;
  }
  return out;
}

/** The compiled worker module: this file when running from dist/, else the package's dist/ (or null). */
function workerModule(): string | null {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith(".js") ? here : join(PACKAGE_ROOT, "dist", "data", "image-workers.js");
  return existsSync(path) ? path : null;
}

/** Worker threads that decode PNG and JPEG files; `decode` shares a list of files out among them. */
export class FastDecoderPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<
    number,
    { resolve: (r: DecodeReply) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private failure: Error | null = null;

  /** `threads` workers (none below 2, or without the compiled module: decoding on this thread). */
  constructor(threads: number) {
    const path = threads >= 2 ? workerModule() : null;
    this.workers = path
      ? Array.from({ length: threads }, () => {
          const worker = new Worker(path, { workerData: { imageDecodeWorker: true } });
          worker.on("message", (reply: DecodeReply) => {
            const entry = this.waiting.get(reply.id);
            this.waiting.delete(reply.id);
            if (reply.error) entry?.reject(new Error(`image decoding worker: ${reply.error}`));
            else entry?.resolve(reply);
          });
          worker.on("error", (error) => this.fail(error));
          worker.on("exit", (code) => {
            if (this.waiting.size > 0) this.fail(new Error(`image decoding worker exited (code ${code})`));
          });
          return worker;
        })
      : [];
  }

  /** Threads decoding (0: the calling thread). */
  get threads(): number {
    return this.workers.length;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const entry of this.waiting.values()) entry.reject(error);
    this.waiting.clear();
  }

  /** Each file decoded (in the order given), or null where sharp must decode it. */
  async decode(
    files: readonly string[],
    channels: 1 | 3,
    size: [number, number] | null,
  ): Promise<(DecodedImage | null)[]> {
    if (this.workers.length === 0 || files.length === 0) return decodeFiles(files, channels, size);
    if (this.failure) throw this.failure;
    const per = Math.ceil(files.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((worker, w) => {
        const slice = files.slice(w * per, (w + 1) * per);
        if (slice.length === 0) return Promise.resolve([]);
        const id = this.nextId++;
        const reply = new Promise<DecodeReply>((resolve, reject) =>
          this.waiting.set(id, { resolve, reject }),
        );
        worker.postMessage({ id, files: slice, channels, size } satisfies DecodeRequest);
        return reply.then((r) => unpack(r, channels));
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

if (
  !isMainThread &&
  parentPort &&
  (workerData as { imageDecodeWorker?: boolean } | null)?.imageDecodeWorker
) {
  const port = parentPort;
  port.on("message", async (request: DecodeRequest) => {
    try {
      const reply = pack(request.id, await decodeFiles(request.files, request.channels, request.size));
      port.postMessage(reply, [reply.shapes.buffer as ArrayBuffer, reply.pixels.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({
        id: request.id,
        shapes: new Int32Array(0),
        pixels: new Uint8Array(0),
        error: String(error),
      });
    }
  });
}
