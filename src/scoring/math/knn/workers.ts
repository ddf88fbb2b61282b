/**
 * The k-NN on worker threads (node:worker_threads): the tiled path's tile pairs (or the exact path's
 * query ranges) shared out among workers, whose exact neighbour lists are merged. This module is
 * also the workers' entry: started as a worker with a k-NN task, it runs its share and posts it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { PACKAGE_ROOT } from "../../../config/package.js";
import { exactPredict } from "./exact.js";
import { type NeighbourLists, voteAll } from "./lists.js";
import {
  type KnnOptions,
  type MatrixProvider,
  makeProblem,
  type ParallelKnnOptions,
  type Problem,
} from "./problem.js";
import { planTiles, TiledSearch, type TilePlan } from "./tiled.js";

/** What a worker receives: the problem in shared memory and its share of the work. */
interface WorkerTask {
  /** Marks the data of a k-NN worker thread (this module runs its task only then). */
  knnTask: true;
  mode: "tiled" | "exact";
  references: Float32Array;
  labels: Int32Array;
  /** null: the queries are the references. */
  queries: Float32Array | null;
  dim: number;
  k: number;
  numClasses: number;
  queryTile?: number;
  referenceTile?: number;
  /** Tiled: [next tile pair]; exact: [queries done by this worker]. */
  counter: Int32Array;
  /** Exact path: the query range of this worker. */
  range?: [number, number];
  engineInit?: Record<string, unknown> | null;
}

interface WorkerReply {
  lists?: NeighbourLists;
  predictions?: Int32Array;
  tiles?: number;
  rescored?: number;
  spilled?: Uint8Array;
  error?: string;
}

function shared<T extends Float32Array | Int32Array>(array: T): T {
  if (array.buffer instanceof SharedArrayBuffer) return array;
  const Ctor = array.constructor as new (buffer: SharedArrayBuffer) => T;
  const copy = new Ctor(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}

/** The compiled worker module: this file when running from dist/, else the package's dist/. */
export function knnWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return here;
  return join(PACKAGE_ROOT, "dist", "scoring", "math", "knn", "workers.js");
}

export async function runWorkers(
  problem: Problem,
  plan: TilePlan | null,
  matrix: MatrixProvider | null,
  workers: number,
  options: ParallelKnnOptions,
): Promise<Int32Array> {
  const path = knnWorkerPath();
  if (!existsSync(path)) {
    throw new Error(`k-NN: the worker module ${path} is missing (build with 'npm run build')`);
  }
  const references = shared(problem.references);
  const labels = shared(problem.labels);
  const queries = problem.queries === problem.references ? null : shared(problem.queries);
  const common = {
    references,
    labels,
    queries,
    dim: problem.dim,
    k: problem.k,
    numClasses: problem.numClasses,
    knnTask: true as const,
    ...(options.queryTile === undefined ? {} : { queryTile: options.queryTile }),
    ...(options.referenceTile === undefined ? {} : { referenceTile: options.referenceTile }),
  };
  const tasks: WorkerTask[] = [];
  if (plan && matrix) {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    for (let w = 0; w < workers; w++)
      tasks.push({ ...common, mode: "tiled", counter, engineInit: matrix.workerInit });
  } else {
    const per = Math.ceil(problem.nQuery / workers);
    for (let w = 0; w < workers; w++) {
      const range: [number, number] = [w * per, Math.min(problem.nQuery, (w + 1) * per)];
      tasks.push({ ...common, mode: "exact", counter: new Int32Array(new SharedArrayBuffer(4)), range });
    }
  }
  const progress = options.onProgress
    ? setInterval(() => {
        if (plan) {
          const done = Math.min(plan.pairs, Atomics.load(tasks[0]?.counter as Int32Array, 0));
          options.onProgress?.(Math.floor((problem.nQuery * done) / plan.pairs));
        } else {
          options.onProgress?.(tasks.reduce((s, t) => s + Atomics.load(t.counter, 0), 0));
        }
      }, 250)
    : null;
  try {
    const started = tasks.map((task) => startWorker(path, task));
    // One failing worker stops the others (they would only compute a result nobody reads).
    const replies = await Promise.all(started.map((s) => s.reply)).catch(async (error: unknown) => {
      await Promise.all(started.map((s) => s.worker.terminate()));
      throw error;
    });
    if (!plan) {
      const predictions = new Int32Array(problem.nQuery);
      replies.forEach((reply, w) => {
        predictions.set(reply.predictions as Int32Array, (tasks[w] as WorkerTask).range?.[0] ?? 0);
      });
      options.onProgress?.(problem.nQuery);
      return predictions;
    }
    const stats = options.stats;
    if (stats) {
      const spilled = new Uint8Array(problem.nQuery);
      for (const reply of replies) {
        stats.tiles += reply.tiles ?? 0;
        stats.rescored += reply.rescored ?? 0;
        const s = reply.spilled as Uint8Array;
        for (let q = 0; q < spilled.length; q++) spilled[q] = (spilled[q] as number) | (s[q] as number);
      }
      for (let q = 0; q < spilled.length; q++) stats.overflows += spilled[q] as number;
    }
    options.onProgress?.(problem.nQuery);
    return voteAll(
      problem,
      replies.map((r) => r.lists as NeighbourLists),
    );
  } finally {
    if (progress) clearInterval(progress);
  }
}

function startWorker(path: string, task: WorkerTask): { worker: Worker; reply: Promise<WorkerReply> } {
  const worker = new Worker(path, { workerData: task });
  const reply = new Promise<WorkerReply>((resolvePromise, reject) => {
    let settled = false;
    worker.once("message", (message: WorkerReply) => {
      settled = true;
      if (message.error) reject(new Error(`k-NN worker: ${message.error}`));
      else resolvePromise(message);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      settled = true;
      reject(error);
    });
    worker.once("exit", (code) => {
      if (!settled) reject(new Error(`k-NN worker exited (code ${code}) without a result`));
    });
  });
  return { worker, reply };
}

/** The body of a worker thread: runs its share of `task` and returns the reply. */
export async function knnWorkerMain(
  task: WorkerTask,
): Promise<{ reply: WorkerReply; transfer: ArrayBuffer[] }> {
  const queries = task.queries ?? task.references;
  const options: KnnOptions = {
    k: task.k,
    numClasses: task.numClasses,
    ...(task.queryTile === undefined ? {} : { queryTile: task.queryTile }),
    ...(task.referenceTile === undefined ? {} : { referenceTile: task.referenceTile }),
  };
  const problem = makeProblem(task.references, task.labels, queries, task.dim, options);
  if (task.mode === "exact") {
    const [q0, q1] = task.range as [number, number];
    const predictions = exactPredict(
      problem,
      { onProgress: (done) => Atomics.store(task.counter, 0, done) },
      q0,
      q1,
    );
    return { reply: { predictions }, transfer: [predictions.buffer as ArrayBuffer] };
  }
  const engine = await import("../../../engine/index.js");
  await engine.initEngine(task.engineInit ?? {});
  const matrix = engine.matrixPrimitive();
  if (!matrix) throw new Error("the engine has no matrix primitive in this worker");
  const plan = planTiles(problem, options) as TilePlan;
  const search = new TiledSearch(problem, plan);
  for (;;) {
    const p = Atomics.add(task.counter, 0, 1);
    if (p >= plan.pairs) break;
    search.runPair(p, matrix.matMulTransposed, matrix.tileCandidates);
  }
  search.finishAll();
  const lists = search.result();
  const spilled = search.spilledQueries();
  return {
    reply: { lists, tiles: search.tiles, rescored: search.rescored, spilled },
    transfer: [lists.dist.buffer, lists.idx.buffer, lists.filled.buffer, spilled.buffer] as ArrayBuffer[],
  };
}

// The worker thread's entry: runs only in a thread started by runWorkers (its data is a k-NN task).
if (!isMainThread && parentPort && (workerData as Partial<WorkerTask> | null)?.knnTask === true) {
  const port = parentPort;
  knnWorkerMain(workerData as WorkerTask).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (error: unknown) =>
      port.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
}
