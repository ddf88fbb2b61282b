/**
 * Adaptive average pooling (PyTorch semantics: output cell i averages input cells
 * floor(i·In/Out) … ceil((i+1)·In/Out) − 1), used by PredictionDepth to bring layer outputs of very
 * different sizes down to comparable embeddings. A forward pass can return a layer's output pooled
 * (`Network.forward`'s `pool` option): the torch engine's built-in networks pool natively from the
 * activation, with the same float64 sums in the same order, so the values are bit-identical to
 * `applyPooling` here; the wasm engine and TorchScript networks apply `poolLayerOutputs` to their
 * layer outputs. Engine-neutral: no tensor library.
 */
import type { LayerOutput } from "./types.js";

/** Pools each row of a (rows × length) matrix to (rows × outLength). */
export function adaptiveAvgPool1d(
  data: Float32Array,
  rows: number,
  length: number,
  outLength: number,
): Float32Array {
  const out = new Float32Array(rows * outLength);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outLength; o++) {
      const start = Math.floor((o * length) / outLength);
      const end = Math.ceil(((o + 1) * length) / outLength);
      let s = 0;
      for (let i = start; i < end; i++) s += data[r * length + i] as number;
      out[r * outLength + o] = s / (end - start);
    }
  }
  return out;
}

/**
 * Pools a channels-last (rows × X × Y × C) tensor over its two spatial axes to (rows × outX × outY × C).
 */
export function adaptiveAvgPool2d(
  data: Float32Array,
  rows: number,
  x: number,
  y: number,
  channels: number,
  outX: number,
  outY: number,
): Float32Array {
  const out = new Float32Array(rows * outX * outY * channels);
  const sums = new Float64Array(channels);
  for (let r = 0; r < rows; r++) {
    const inBase = r * x * y * channels;
    for (let ox = 0; ox < outX; ox++) {
      const x0 = Math.floor((ox * x) / outX);
      const x1 = Math.ceil(((ox + 1) * x) / outX);
      for (let oy = 0; oy < outY; oy++) {
        const y0 = Math.floor((oy * y) / outY);
        const y1 = Math.ceil(((oy + 1) * y) / outY);
        sums.fill(0);
        for (let i = x0; i < x1; i++) {
          for (let j = y0; j < y1; j++) {
            const base = inBase + (i * y + j) * channels;
            for (let c = 0; c < channels; c++) sums[c] = (sums[c] as number) + (data[base + c] as number);
          }
        }
        const area = (x1 - x0) * (y1 - y0);
        const outBase = ((r * outX + ox) * outY + oy) * channels;
        for (let c = 0; c < channels; c++) out[outBase + c] = (sums[c] as number) / area;
      }
    }
  }
  return out;
}

/** The pooling PredictionDepth applies to one layer output: none, 1-D to `length`, or 2-D to (x, y). */
export type PoolPlan =
  | { kind: "identity"; size: number }
  | { kind: "pool1d"; length: number; outLength: number; size: number }
  | { kind: "pool2d"; x: number; y: number; channels: number; outX: number; outY: number; size: number };

/**
 * Decides how a layer output of shape `[batch, ...]` is pooled (aucurriculum PredictionDepth rules,
 * channels-last as the wasm engine lays them out):
 * - rank 2 (B, F): identity without a maximum, else 1-D pooling to min(F, max);
 * - rank 3 (B, X, Y) is treated as (B, X, Y, 1); rank 4 is (B, X, Y, C);
 * - without a maximum: `matchDimensions` pools to min(X, Y)², else identity;
 * - with a maximum: X = Y = min(X, Y) when `matchDimensions`, then both shrink by one until
 *   C·X·Y ≤ max (an error when even 1×1 is too large).
 */
export function planPooling(
  shape: readonly number[],
  maxSize: number | null,
  matchDimensions: boolean,
): PoolPlan {
  const dims = shape.slice(1);
  if (dims.length === 1) {
    const f = dims[0] as number;
    if (maxSize === null || f <= maxSize) return { kind: "identity", size: f };
    return { kind: "pool1d", length: f, outLength: maxSize, size: maxSize };
  }
  if (dims.length !== 2 && dims.length !== 3) {
    throw new Error(
      `Unsupported input size: layer output of shape [${shape.join(", ")}] (expected rank 2, 3 or 4)`,
    );
  }
  const [x, y] = dims as [number, number];
  const c = dims.length === 3 ? (dims[2] as number) : 1;
  let outX = x;
  let outY = y;
  if (matchDimensions) outX = outY = Math.min(x, y);
  if (maxSize !== null) {
    while (c * outX * outY > maxSize) {
      if (outX * outY === 1) {
        throw new Error(
          `max_embedding_size ${maxSize} is smaller than the ${c} channels of a layer output of shape [${shape.join(", ")}]`,
        );
      }
      outX = Math.max(outX - 1, 1);
      outY = Math.max(outY - 1, 1);
    }
  }
  if (outX === x && outY === y) return { kind: "identity", size: x * y * c };
  return { kind: "pool2d", x, y, channels: c, outX, outY, size: outX * outY * c };
}

/** Applies a plan to `rows` samples; returns rows × plan.size values. */
export function applyPooling(plan: PoolPlan, data: Float32Array, rows: number): Float32Array {
  switch (plan.kind) {
    case "identity":
      return data;
    case "pool1d":
      return adaptiveAvgPool1d(data, rows, plan.length, plan.outLength);
    case "pool2d":
      return adaptiveAvgPool2d(data, rows, plan.x, plan.y, plan.channels, plan.outX, plan.outY);
  }
}

/** The per-sample input shape (channels-last) a plan pools, as `planPooling` read it. */
function planInput(plan: PoolPlan): string {
  switch (plan.kind) {
    case "identity":
      return `${plan.size} values`;
    case "pool1d":
      return `[${plan.length}]`;
    case "pool2d":
      return plan.channels === 1
        ? `[${plan.x}, ${plan.y}] or [${plan.x}, ${plan.y}, 1]`
        : `[${plan.x}, ${plan.y}, ${plan.channels}]`;
  }
}

/**
 * Checks that `plan` pools a layer output of per-sample shape `shape` (channels-last, no batch) and
 * is well formed; an error naming the layer otherwise.
 */
export function checkPoolPlan(plan: PoolPlan, shape: readonly number[], layer: string, where: string): void {
  const positive = (...values: number[]) => values.every((v) => Number.isInteger(v) && v >= 1);
  const values = shape.reduce((a, b) => a * b, 1);
  let fits: boolean;
  switch (plan.kind) {
    case "identity":
      fits = positive(plan.size) && values === plan.size;
      break;
    case "pool1d":
      fits =
        positive(plan.length, plan.outLength) &&
        plan.size === plan.outLength &&
        shape.length === 1 &&
        shape[0] === plan.length;
      break;
    case "pool2d":
      fits =
        positive(plan.x, plan.y, plan.channels, plan.outX, plan.outY) &&
        plan.size === plan.outX * plan.outY * plan.channels &&
        shape[0] === plan.x &&
        shape[1] === plan.y &&
        (shape.length === 3 ? shape[2] === plan.channels : shape.length === 2 && plan.channels === 1);
      break;
    default:
      fits = false;
  }
  if (!fits) {
    throw new Error(
      `${where}: the pooling of layer '${layer}' (${JSON.stringify(plan)}) expects an output of ${planInput(plan)} per sample, the layer's is [${shape.join(", ")}]`,
    );
  }
}

/** Checks that every layer a `pool` option names is among the requested outputs. */
export function checkPoolLayers(
  pool: Readonly<Record<string, PoolPlan>>,
  outputs: readonly string[],
  where: string,
): void {
  for (const name of Object.keys(pool)) {
    if (!outputs.includes(name)) {
      throw new Error(`${where}: pool names layer '${name}', which is not among the requested outputs`);
    }
  }
}

/**
 * The layer outputs of one forward pass with the plans of `pool` applied in JS (`applyPooling`):
 * a pooled layer comes back as [batch, plan.size]; layers without a plan as they are. How the
 * networks that do not pool natively (wasm, TorchScript) honour `forward`'s `pool` option.
 */
export function poolLayerOutputs(
  layers: Record<string, LayerOutput>,
  pool: Readonly<Record<string, PoolPlan>> | undefined,
  batchSize: number,
  where: string,
): Record<string, LayerOutput> {
  if (!pool) return layers;
  checkPoolLayers(pool, Object.keys(layers), where);
  const out: Record<string, LayerOutput> = { ...layers };
  for (const [name, plan] of Object.entries(pool)) {
    const layer = layers[name] as LayerOutput;
    checkPoolPlan(plan, layer.shape.slice(1), name, where);
    out[name] = { data: applyPooling(plan, layer.data, batchSize), shape: [batchSize, plan.size] };
  }
  return out;
}
