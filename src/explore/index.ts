/** `curricula explore`: a local web page over an experiment's samples, scores and runs, and its static copy. */
export {
  type ExploreData,
  type ExploreOptions,
  loadExplore,
  sampleCurves,
  sampleImage,
  savedTags,
} from "./data.js";
export { BUNDLE_PATH, explorePage } from "./page.js";
export {
  type ExploreServer,
  type ExploreServerOptions,
  exploreHandler,
  filePathProblem,
  isLoopback,
  parseTag,
  startExploreServer,
} from "./server.js";
export { staticData, writeExploreStatic } from "./static.js";
export type * from "./types.js";
