/**
 * The wasm engine: TensorFlow.js on its WebAssembly SIMD backend (the zero-install engine), or its
 * cpu and tfjs-node backends when asked. Only src/engine/index.ts loads this module, and only when
 * the wasm engine is used, so that torch users never load TensorFlow.js.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { EngineBackend, EngineListing } from "../types.js";
import { type BackendChoice, engineMemory, initWasmBackend } from "./backend.js";
import { buildWasmModel } from "./build.js";
import { matMulTransposed } from "./linalg.js";
import { WasmNetwork } from "./network.js";

export const wasmBackend: EngineBackend = {
  name: "wasm",

  async start(settings) {
    const options = settings.backend ? { backend: settings.backend as BackendChoice } : {};
    const info = await initWasmBackend(options);
    return {
      ...info,
      engine: "wasm",
      device: "cpu",
      threads: 1,
      threadPlan: settings.plan,
    };
  },

  createNetwork(description, params, optimizer, dropoutRng, options) {
    const model = buildWasmModel(description, params);
    try {
      return new WasmNetwork(
        model,
        description,
        optimizer,
        dropoutRng,
        options.batchesTracked ?? 0,
        options.frozen ?? [],
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
  },

  matMulTransposed,

  /**
   * The TensorFlow.js wasm backend is single-threaded and starts in worker threads (each runs its
   * own instance); the pure-JS cpu backend is no faster than plain JS loops (null); tfjs-node is
   * called from this thread with its own threads.
   */
  matrixPrimitive(info) {
    if (info.backend === "cpu") return null;
    if (info.backend === "wasm") {
      return { engine: "wasm", matMulTransposed, threadsPerCall: 1, workerInit: { backend: "wasm" } };
    }
    return { engine: info.backend, matMulTransposed, threadsPerCall: info.threads ?? 1, workerInit: null };
  },

  async describe(): Promise<EngineListing> {
    try {
      const info = await initWasmBackend({ backend: "wasm" });
      return {
        name: "wasm",
        usable: true,
        version: `tfjs ${info.version}`,
        devices: ["cpu"],
        detail: `TensorFlow.js WebAssembly backend, ${info.simd ? "SIMD" : "no SIMD"}, 1 thread`,
      };
    } catch (error) {
      return {
        name: "wasm",
        usable: false,
        version: `tfjs ${tf.version_core}`,
        devices: [],
        detail: (error as Error).message,
      };
    }
  },

  memory: engineMemory,
};
