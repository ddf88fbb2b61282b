/**
 * Backend choice. tfjs-node (native TensorFlow) when it is installed and loads; otherwise the wasm
 * backend with SIMD, single-threaded (deterministic; use the second core by running runs in
 * parallel processes); the pure-JS cpu backend as a last resort or when forced.
 * CURRICULA_BACKEND=wasm|cpu|tensorflow forces a choice.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import { UsageError } from "../../util/errors.js";
import type { EngineInfo } from "../types.js";
import { registerEngineKernels } from "./kernels.js";

export type BackendChoice = "auto" | "wasm" | "cpu" | "tensorflow";

let ready: Promise<EngineInfo> | null = null;
let current: EngineInfo | null = null;
let wasmPathsSet = false;

/**
 * Initialises the tensor engine once per process; later calls return the same info (a later call
 * asking for a different backend switches to it, which tests use to compare backends).
 */
export function initWasmBackend(options: { backend?: BackendChoice } = {}): Promise<EngineInfo> {
  const forced = process.env.CURRICULA_BACKEND;
  if (forced !== undefined && forced !== "" && !["auto", "wasm", "cpu", "tensorflow"].includes(forced)) {
    throw new UsageError(`CURRICULA_BACKEND: expected wasm, cpu or tensorflow, got '${forced}'`);
  }
  const wanted = (options.backend ?? (forced || "auto")) as BackendChoice;
  if (ready && current && (wanted === "auto" || backendKey(wanted) === current.backend)) return ready;
  const previous = ready ?? Promise.resolve(null);
  ready = previous.then(() => selectBackend(wanted));
  ready.then(
    (info) => {
      current = info;
    },
    () => {
      ready = null;
    },
  );
  return ready;
}

/** The backend the engine runs on, or null before initEngine finished. */
export function wasmBackendInfo(): EngineInfo | null {
  return current;
}

export function engineMemory(): { tensors: number; bytes: number } {
  const m = tf.memory();
  return { tensors: m.numTensors, bytes: m.numBytes };
}

function backendKey(choice: BackendChoice): string {
  return choice === "auto" ? "" : choice;
}

async function selectBackend(wanted: BackendChoice): Promise<EngineInfo> {
  // Loaded here, not at the top: a side-effect import would put TensorFlow.js's type declarations into the
  // public API's (and a consumer with skipLibCheck false would type-check them).
  await import("@tensorflow/tfjs-backend-cpu");
  if (wanted === "auto" || wanted === "tensorflow") {
    const info = await tryTensorflowNode();
    if (info) return info;
    if (wanted === "tensorflow") {
      throw new UsageError(
        "backend 'tensorflow' needs @tensorflow/tfjs-node 4.22.0, which is not installed or does not load",
      );
    }
  }
  if (wanted === "auto" || wanted === "wasm") {
    try {
      return await useWasm();
    } catch (error) {
      if (wanted === "wasm") throw error;
    }
  }
  return useCpu();
}

async function tryTensorflowNode(): Promise<EngineInfo | null> {
  // A variable specifier keeps TypeScript and bundlers from requiring the optional package.
  const name = "@tensorflow/tfjs-node";
  try {
    await import(name);
  } catch {
    return null;
  }
  if (!tf.findBackend("tensorflow") && !tf.engine().registryFactory.tensorflow) return null;
  if (!(await tf.setBackend("tensorflow"))) return null;
  await tf.ready();
  return { backend: "tensorflow", simd: false, version: tf.version_core };
}

async function useWasm(): Promise<EngineInfo> {
  if (!wasmPathsSet) {
    const require = createRequire(import.meta.url);
    // The package's main file lives in dist/, next to the .wasm binaries.
    const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    setWasmPaths(`${dist}/`);
    wasmPathsSet = true;
  }
  registerEngineKernels("wasm");
  if (!(await tf.setBackend("wasm"))) throw new Error("the TensorFlow.js wasm backend failed to initialise");
  await tf.ready();
  return {
    backend: "wasm",
    simd: Boolean(tf.env().getBool("WASM_HAS_SIMD_SUPPORT")),
    version: tf.version_core,
  };
}

async function useCpu(): Promise<EngineInfo> {
  registerEngineKernels("cpu");
  if (!(await tf.setBackend("cpu"))) throw new Error("the TensorFlow.js cpu backend failed to initialise");
  await tf.ready();
  // The cpu backend prints a "install tfjs-node" banner on first use; curricula says it in the docs.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return { backend: "cpu", simd: false, version: tf.version_core };
}

/** Per-kernel time of `fn` (summed by kernel name, slowest first); for benchmarks and diagnosis. */
export async function profileKernels(
  fn: () => void,
): Promise<{ kernel: string; ms: number; calls: number }[]> {
  const info = await tf.profile(() => {
    fn();
  });
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = Number(await k.kernelTimeMs) || 0;
    const entry = byName.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls += 1;
    byName.set(k.name, entry);
  }
  return [...byName].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
}
