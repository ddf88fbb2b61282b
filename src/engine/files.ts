/**
 * File names of a saved network (kept apart from io.ts so the public API's type declarations do not
 * pull in TF.js's).
 */
export const MODEL_FILE = "model.json";
export const WEIGHTS_FILE = "weights.bin";
export const OPTIMIZER_FILE = "optimizer.json";
export const OPTIMIZER_WEIGHTS_FILE = "optimizer.bin";
