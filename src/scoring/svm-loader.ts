import { createRequire } from "node:module";

/** The parts of libsvm-js's SVM class curricula uses. */
export interface LibsvmInstance {
  train(samples: number[][], labels: number[]): void;
  predictProbability(
    samples: number[][],
  ): { prediction: number; estimates: { label: number; probability: number }[] }[];
  serializeModel(): string;
  free(): void;
}
export interface LibsvmClass {
  new (options: Record<string, unknown>): LibsvmInstance;
  KERNEL_TYPES: Record<string, string>;
  SVM_TYPES: Record<string, string>;
}

let loading: Promise<LibsvmClass> | null = null;

/**
 * Loads libsvm-js's WebAssembly build once. Its emscripten loader tries `fetch` on a file path under
 * Node and logs a harmless fallback warning; console output is muted while it loads.
 */
export function loadLibsvm(): Promise<LibsvmClass> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const saved = { warn: console.warn, error: console.error, log: console.log };
    console.warn = console.error = console.log = () => {};
    try {
      return (await require("libsvm-js")) as LibsvmClass;
    } finally {
      Object.assign(console, saved);
    }
  })();
  return loading;
}
