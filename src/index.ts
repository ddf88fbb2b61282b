/**
 * curricula's library API: everything the CLI does is available from here.
 *
 *   import { trainRun, score, study, AbstractScore, AbstractPace } from "curricula";
 */

export * from "./curriculum/index.js";
export * from "./data/index.js";
export * from "./engine/index.js";
export * from "./experiments/index.js";
export * from "./models/index.js";
export * from "./report/index.js";
export * from "./scoring/index.js";
export * from "./study/index.js";
export * from "./training/index.js";
export * from "./util/errors.js";
export { loadNpy, type Npy, saveNpy } from "./util/npy.js";
export { Rng, type RngState } from "./util/rng.js";
