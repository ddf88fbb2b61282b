/** Worker thread of `knnPredictParallel` (src/scoring/math/knn.ts): runs its share and posts the result. */
import { parentPort, workerData } from "node:worker_threads";
import { knnWorkerMain } from "./knn.js";

try {
  const { reply, transfer } = await knnWorkerMain(workerData);
  parentPort?.postMessage(reply, transfer);
} catch (error) {
  parentPort?.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
