/** Assembling a run from its config (dataset, network, criterion, callbacks) and training it. */

export { checkLoadedNetwork, checkNetworkSpec, checkSavedModel } from "./model-check.js";

export {
  assembleRun,
  buildForRun,
  defaultDeps,
  networkSpecFor,
  runCallbacks,
  type TrainerDeps,
  trainRun,
  trainRunWith,
} from "./train-run.js";
