import { MODEL_FILES } from "../config/layout.js";

/**
 * File names of a saved network (kept apart from io.ts so the public API's type declarations do not
 * pull in TF.js's).
 */
export const MODEL_FILE = MODEL_FILES.modelJson;
export const WEIGHTS_FILE = MODEL_FILES.weights;
export const OPTIMIZER_FILE = MODEL_FILES.optimizerJson;
export const OPTIMIZER_WEIGHTS_FILE = MODEL_FILES.optimizerWeights;
