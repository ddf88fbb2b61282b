/**
 * Kernel fixes for tfjs 4.22 backends, registered through the public kernel registry
 * (getKernel / unregisterKernel / registerKernel). See docs/engine.md for measurements.
 *
 * wasm:
 * - Conv2DBackpropFilter is missing: dW = im2col(x)^T · dy, with the patch matrix built by a
 *   typed-array loop on the wasm heap and the product on the wasm matmul (about twice as fast as
 *   expressing dW as one conv2d, see below, which XNNPACK runs poorly for huge kernels).
 * - Sum over all leading axes (every conv/dense bias gradient) is a column sum in a typed-array loop
 *   instead of the shipped transpose + reduce.
 * - MaxPoolGrad drops the gradient of windows whose values are all negative (the shipped kernel
 *   starts its running max at 0). Replaced by a direct typed-array loop over the wasm heap (also
 *   faster than the shipped loop).
 * - Conv2DBackpropInput with stride 1 is a slow scalar loop: it becomes an XNNPACK conv2d of the
 *   padded dy with the spatially flipped, in/out-swapped filter.
 * - BatchMatMul with transposeA/B runs ~10x below the plain product: transposes are materialised.
 * cpu:
 * - Conv2DBackpropFilter is a scalar loop (~24 s per step of the benchmark CNN): dW is computed as one
 *   conv2d of the transposed padded input with the transposed output gradient (batch becomes the
 *   reduction axis):
 *     dW[kh,kw,ci,co] = sum_{b,oh,ow} xpad[b, oh*s+kh, ow*s+kw, ci] * dy[b,oh,ow,co]
 *                     = conv2d(xpad^T [ci,H,W,b], dy^T [oh,ow,b,co], stride 1, dilation s)[ci,kh,kw,co]
 */
import * as tf from "@tensorflow/tfjs-core";

type TensorInfo = tf.TensorInfo;
// Backends are typed loosely here: the kernels only use methods every backend object has.
// biome-ignore lint/suspicious/noExplicitAny: kernel backends are untyped in tfjs' registry API
type AnyBackend = any;
type Attrs = Record<string, unknown>;
type KernelCall = (args: {
  inputs: Record<string, TensorInfo>;
  backend: AnyBackend;
  attrs?: Attrs;
}) => TensorInfo;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

const patched = new Set<string>();

/** Registers the fixed kernels for `backendName` ("wasm" or "cpu"); idempotent. */
export function registerEngineKernels(backendName: "wasm" | "cpu"): void {
  if (patched.has(backendName)) return;
  patched.add(backendName);
  if (backendName === "wasm") {
    replaceKernel("MaxPoolGrad", "wasm", (orig) => (args) => maxPoolGradWasm(args, orig));
    replaceKernel("Conv2DBackpropInput", "wasm", (orig) => (args) => conv2dBackpropInputStride1(args, orig));
    replaceKernel("BatchMatMul", "wasm", (orig) => (args) => batchMatMulMaterialised(args, orig));
    replaceKernel("Sum", "wasm", (orig) => (args) => sumLeadingAxesWasm(args, orig));
  }
  if (tf.getKernel("Conv2DBackpropFilter", backendName))
    tf.unregisterKernel("Conv2DBackpropFilter", backendName);
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName,
    kernelFunc: ((args: Parameters<KernelCall>[0]) =>
      backendName === "wasm"
        ? conv2dBackpropFilterIm2col(args)
        : conv2dBackpropFilter(args, backendName)) as tf.KernelFunc,
  });
}

/** Swaps a registered kernel for a wrapper, keeping its setupFunc (wasm binds its C function there). */
function replaceKernel(name: string, backendName: string, wrap: (orig: KernelCall) => KernelCall): void {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`tfjs kernel ${name} is not registered for backend ${backendName}`);
  tf.unregisterKernel(name, backendName);
  tf.registerKernel({
    ...config,
    kernelFunc: wrap(config.kernelFunc as unknown as KernelCall) as unknown as tf.KernelFunc,
  });
}

function kernel(name: string, backendName: string): KernelCall {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`tfjs kernel ${name} is not registered for backend ${backendName}`);
  return config.kernelFunc as unknown as KernelCall;
}

type Shape4 = [number, number, number, number];

function conv2dBackpropFilter(args: Parameters<KernelCall>[0], backendName: string): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number] | number;
    pad: "same" | "valid" | number;
    dataFormat?: string;
    dimRoundingMode?: "floor" | "round" | "ceil";
    filterShape: Shape4;
  };
  if (dataFormat && dataFormat !== "NHWC") throw new Error("Conv2DBackpropFilter: only NHWC is supported");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const transpose = kernel("Transpose", backendName);
  const conv2d = kernel("Conv2D", backendName);
  const temps: TensorInfo[] = [];
  let xp = x;
  const { top, bottom, left, right } = info.padInfo;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    xp = kernel(
      "PadV2",
      backendName,
    )({
      inputs: { x },
      backend,
      attrs: {
        paddings: [
          [0, 0],
          [Math.max(top, 0), Math.max(bottom, 0)],
          [Math.max(left, 0), Math.max(right, 0)],
          [0, 0],
        ],
        constantValue: 0,
      },
    });
    temps.push(xp);
  }
  const xT = transpose({ inputs: { x: xp }, backend, attrs: { perm: [3, 1, 2, 0] } }); // [ci,H,W,b]
  const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [oh,ow,b,co]
  temps.push(xT, dyT);
  const out = conv2d({
    inputs: { x: xT, filter: dyT },
    backend,
    attrs: {
      strides: [1, 1],
      pad: "valid",
      dataFormat: "NHWC",
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined,
    },
  }); // [ci, >=kh, >=kw, co]
  temps.push(out);
  let cropped = out;
  const [kh, kw] = filterShape;
  if (out.shape[1] !== kh || out.shape[2] !== kw) {
    cropped = kernel(
      "Slice",
      backendName,
    )({
      inputs: { x: out },
      backend,
      attrs: { begin: [0, 0, 0, 0], size: [out.shape[0], kh, kw, out.shape[3]] },
    });
    temps.push(cropped);
  }
  const result = transpose({ inputs: { x: cropped }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [kh,kw,ci,co]
  for (const t of temps) backend.disposeData(t.dataId);
  return result;
}

/** Geometry of a 2-D pooling window (NHWC), as tfjs' Conv2DInfo reports it. */
export interface PoolGeometry {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  strideHeight: number;
  strideWidth: number;
  filterHeight: number;
  filterWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Max-pooling gradient: each output gradient goes to the first maximum of its window (row-major
 * window order, the rule of tfjs' cpu backend and PyTorch). `dx` must be zeroed by the caller.
 * Windows are scanned channel-innermost so the loops walk contiguous memory.
 */
export function maxPoolGradNHWC(x: Float32Array, dy: Float32Array, dx: Float32Array, g: PoolGeometry): void {
  const C = g.channels;
  // Offsets of the valid window positions of the current output pixel; the channel loop then keeps
  // the running maximum in registers (much faster than per-channel scratch arrays).
  const offsets = new Int32Array(g.filterHeight * g.filterWidth);
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    const batchBase = b * g.inHeight * g.inWidth * C;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const h0 = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++, o += C) {
        const w0 = ow * g.strideWidth - g.padLeft;
        let n = 0;
        for (let fh = 0; fh < g.filterHeight; fh++) {
          const ih = h0 + fh * g.dilationHeight;
          if (ih < 0 || ih >= g.inHeight) continue;
          for (let fw = 0; fw < g.filterWidth; fw++) {
            const iw = w0 + fw * g.dilationWidth;
            if (iw < 0 || iw >= g.inWidth) continue;
            offsets[n++] = batchBase + (ih * g.inWidth + iw) * C;
          }
        }
        if (n === 0) continue;
        const first = offsets[0] as number;
        for (let c = 0; c < C; c++) {
          let at = first + c;
          let best = x[at] as number;
          for (let k = 1; k < n; k++) {
            const i = (offsets[k] as number) + c;
            const v = x[i] as number;
            if (v > best) {
              best = v;
              at = i;
            }
          }
          dx[at] = (dx[at] as number) + (dy[o + c] as number);
        }
      }
    }
  }
}

function maxPoolGradWasm(args: Parameters<KernelCall>[0], orig: KernelCall): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const input = inputs.input as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  if (input.dtype !== "float32") return orig(args);
  const { filterSize, strides, pad, dimRoundingMode } = attrs as {
    filterSize: [number, number] | number;
    strides: [number, number] | number;
    pad: "same" | "valid" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as Shape4,
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const wasm = backend as WasmBackendLike;
  const dx = wasm.makeOutput(input.shape, "float32");
  // Views are taken after the allocation: growing the heap would detach earlier ones.
  const dxView = wasm.typedArrayFromHeap(dx);
  dxView.fill(0);
  maxPoolGradNHWC(wasm.typedArrayFromHeap(input), wasm.typedArrayFromHeap(dy), dxView, {
    batch: info.batchSize,
    channels: info.inChannels,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  return dx;
}

function conv2dBackpropInputStride1(args: Parameters<KernelCall>[0], orig: KernelCall): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as {
    strides: [number, number] | number;
    pad: "same" | "valid" | number;
    dataFormat?: string;
    dimRoundingMode?: "floor" | "round" | "ceil";
    inputShape: Shape4;
  };
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || (dataFormat && dataFormat !== "NHWC"))
    return orig(args);
  const eh = info.effectiveFilterHeight;
  const ew = info.effectiveFilterWidth;
  const pt = eh - 1 - info.padInfo.top;
  const pl = ew - 1 - info.padInfo.left;
  const pb = inputShape[1] + eh - 1 - (dy.shape[1] as number) - pt;
  const pr = inputShape[2] + ew - 1 - (dy.shape[2] as number) - pl;
  if (pt < 0 || pl < 0 || pb < 0 || pr < 0) return orig(args);
  const temps: TensorInfo[] = [];
  let dyp = dy;
  if (pt || pb || pl || pr) {
    dyp = kernel(
      "PadV2",
      "wasm",
    )({
      inputs: { x: dy },
      backend,
      attrs: {
        paddings: [
          [0, 0],
          [pt, pb],
          [pl, pr],
          [0, 0],
        ],
        constantValue: 0,
      },
    });
    temps.push(dyp);
  }
  const flipped = kernel("Reverse", "wasm")({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } });
  const swapped = kernel(
    "Transpose",
    "wasm",
  )({ inputs: { x: flipped }, backend, attrs: { perm: [0, 1, 3, 2] } });
  temps.push(flipped, swapped);
  const result = kernel(
    "Conv2D",
    "wasm",
  )({
    inputs: { x: dyp, filter: swapped },
    backend,
    attrs: { strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: 1, dimRoundingMode: undefined },
  });
  for (const t of temps) backend.disposeData(t.dataId);
  return result;
}

function batchMatMulMaterialised(args: Parameters<KernelCall>[0], orig: KernelCall): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  if (!attrs.transposeA && !attrs.transposeB) return orig(args);
  const transpose = kernel("Transpose", "wasm");
  const swapLast = (t: TensorInfo): TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 1], perm[r - 2]] = [perm[r - 2] as number, perm[r - 1] as number];
    return transpose({ inputs: { x: t }, backend, attrs: { perm } });
  };
  const a0 = inputs.a as TensorInfo;
  const b0 = inputs.b as TensorInfo;
  const a = attrs.transposeA ? swapLast(a0) : a0;
  const b = attrs.transposeB ? swapLast(b0) : b0;
  const result = orig({
    inputs: { a, b },
    backend,
    attrs: { ...attrs, transposeA: false, transposeB: false },
  });
  if (a !== a0) backend.disposeData(a.dataId);
  if (b !== b0) backend.disposeData(b.dataId);
  return result;
}

/** Geometry of a conv2d for im2col (NHWC, dilation 1). */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Patch matrix of a NHWC input: row (b, oh, ow), column (fh, fw, c), zero outside the image;
 * `col` has (batch*outHeight*outWidth) x (filterHeight*filterWidth*inChannels) entries.
 * Channels are contiguous in both layouts, so each window row is a block copy.
 */
export function im2colNHWC(x: Float32Array, col: Float32Array, g: ConvGeometry): void {
  const C = g.inChannels;
  const rowLength = g.filterHeight * g.filterWidth * C;
  let dst = 0;
  for (let b = 0; b < g.batch; b++) {
    const batchBase = b * g.inHeight * g.inWidth * C;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const h0 = oh * g.strideHeight - g.padTop;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const w0 = ow * g.strideWidth - g.padLeft;
        const rowEnd = dst + rowLength;
        for (let fh = 0; fh < g.filterHeight; fh++) {
          const ih = h0 + fh;
          if (ih < 0 || ih >= g.inHeight) {
            col.fill(0, dst, dst + g.filterWidth * C);
            dst += g.filterWidth * C;
            continue;
          }
          const lineBase = batchBase + ih * g.inWidth * C;
          // The run of valid columns [fwStart, fwEnd) is one contiguous block of the input row.
          const fwStart = Math.max(0, -w0);
          const fwEnd = Math.min(g.filterWidth, g.inWidth - w0);
          if (fwStart > 0) col.fill(0, dst, dst + fwStart * C);
          if (fwEnd > fwStart) {
            const src = lineBase + (w0 + fwStart) * C;
            const n = (fwEnd - fwStart) * C;
            const at = dst + fwStart * C;
            if (n >= 16) col.set(x.subarray(src, src + n), at);
            else for (let i = 0; i < n; i++) col[at + i] = x[src + i] as number;
          }
          const tail = g.filterWidth - Math.max(fwEnd, fwStart);
          if (tail > 0) col.fill(0, dst + (g.filterWidth - tail) * C, dst + g.filterWidth * C);
          dst += g.filterWidth * C;
        }
        dst = rowEnd;
      }
    }
  }
}

function conv2dBackpropFilterIm2col(args: Parameters<KernelCall>[0]): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as {
    strides: [number, number] | number;
    pad: "same" | "valid" | number;
    dataFormat?: string;
    dimRoundingMode?: "floor" | "round" | "ceil";
    filterShape: Shape4;
  };
  if (dataFormat && dataFormat !== "NHWC") throw new Error("Conv2DBackpropFilter: only NHWC is supported");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const cols = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const wasm = backend as WasmBackendLike;
  const col = wasm.makeOutput([1, rows, cols], "float32");
  im2colNHWC(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(col), {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  });
  const reshape = kernel("Reshape", "wasm");
  const matMul = kernel("BatchMatMul", "wasm");
  const dy3 = reshape({ inputs: { x: dy }, backend, attrs: { shape: [1, rows, co] } });
  // The wasm matmul repacks its right operand on every call, so the smaller matrix goes right.
  // (The transposed left operand is materialised by the BatchMatMul wrapper.)
  let result: TensorInfo;
  const temps: TensorInfo[] = [col, dy3];
  if (cols > co) {
    const dw = matMul({
      inputs: { a: col, b: dy3 },
      backend,
      attrs: { transposeA: true, transposeB: false },
    }); // [1, cols, co]
    temps.push(dw);
    result = reshape({ inputs: { x: dw }, backend, attrs: { shape: filterShape } });
  } else {
    const dwT = matMul({
      inputs: { a: dy3, b: col },
      backend,
      attrs: { transposeA: true, transposeB: false },
    }); // [1, co, cols]
    const dw = kernel("Transpose", "wasm")({ inputs: { x: dwT }, backend, attrs: { perm: [0, 2, 1] } });
    temps.push(dwT, dw);
    result = reshape({ inputs: { x: dw }, backend, attrs: { shape: filterShape } });
  }
  for (const t of temps) backend.disposeData(t.dataId);
  return result;
}

/** Column sums of a rows x cols row-major matrix (float64 accumulation). */
export function columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  for (let r = 0, i = 0; r < rows; r++)
    for (let c = 0; c < cols; c++, i++) acc[c] = (acc[c] as number) + (x[i] as number);
  out.set(acc);
}

function sumLeadingAxesWasm(args: Parameters<KernelCall>[0], orig: KernelCall): TensorInfo {
  const { inputs, backend, attrs = {} } = args;
  const x = inputs.x as TensorInfo;
  const rank = x.shape.length;
  if (x.dtype !== "float32" || rank < 2) return orig(args);
  const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape).sort((a, b) => a - b);
  const leading = axes.length === rank - 1 && axes.every((a, i) => a === i);
  if (!leading) return orig(args);
  const cols = x.shape[rank - 1] as number;
  const rows = tf.util.sizeFromShape(x.shape) / cols;
  const outShape = attrs.keepDims ? [...new Array(rank - 1).fill(1), cols] : [cols];
  const wasm = backend as WasmBackendLike;
  const out = wasm.makeOutput(outShape, "float32");
  columnSums(wasm.typedArrayFromHeap(x), rows, cols, wasm.typedArrayFromHeap(out));
  return out;
}
