import { configDefaults, defineConfig } from "vitest/config";
import base from "./vitest.config.js";

/**
 * `npm run test:fast`: the unit tests that need neither training runs nor the built CLI, a browser,
 * the cluster services or the packed package, for a check in under a minute while working. `npm test`
 * runs everything; CI runs everything.
 */
const SLOW = [
  // whole-package and end-to-end tests
  "test/acceptance/**",
  "test/cluster/**",
  "test/package/**",
  "test/study/**",
  "test/cli/**",
  // tests that train networks or spawn the built CLI (dist/)
  "test/training/**",
  "test/scoring/{api,custom-score,damaged,dynamics,functions,provenance,knn,knn-torch}.test.ts",
  "test/curriculum/training.test.ts",
  "test/experiments/{fusion,import-run,train,unwritable}.test.ts",
  "test/config/strict-keys.test.ts",
  "test/engine/{network,gradients}.test.ts",
  "test/engine/torch-*.test.ts",
  // reports, charts rendered to PNG, a browser, real audio and image data
  "test/report/report*.test.ts",
  "test/explore/{server,explore-browser,explore-cli}.test.ts",
  "test/plots/charts.test.ts",
  "test/data/{audio-folder,audio-damaged,idx-mnist}.test.ts",
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    projects: undefined,
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...SLOW],
  },
});
