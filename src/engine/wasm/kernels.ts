/**
 * Kernel fixes for TensorFlow.js 4.22 backends, registered through the public kernel registry
 * (getKernel / unregisterKernel / registerKernel). See docs/engine.md for measurements.
 *
 * wasm:
 * - Conv2DBackpropFilter is missing: dW = im2col(x)^T · dy, with the transposed patch matrix built
 *   by a typed-array loop on the wasm heap and the product on the wasm matmul (much faster than
 *   expressing dW as one conv2d, see below, which XNNPACK runs poorly for huge kernels).
 * - Sum over all leading axes (every conv/dense bias gradient) is a column sum in a typed-array loop
 *   instead of the shipped transpose + reduce.
 * - MaxPoolGrad drops the gradient of windows whose values are all negative (the shipped kernel
 *   starts its running max at 0). Replaced by a direct typed-array loop over the wasm heap (also
 *   faster than the shipped loop).
 * - Conv2DBackpropInput with stride 1 is a slow scalar loop: it becomes an XNNPACK conv2d of dy
 *   (padded implicitly) with the spatially flipped, in/out-swapped filter.
 * - BatchMatMul with transposeA/B runs ~10x below the plain product: transposes are materialised.
 * - Identity (tf.clone, used by the gradient tape to save every kernel input it needs for backward)
 *   and Cast to the same dtype copy the whole buffer; they now share it by reference count, as the
 *   cpu backend and the wasm Reshape do (tensors are immutable; Variable.assign rebinds, never writes).
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
// biome-ignore lint/suspicious/noExplicitAny: kernel backends are untyped in TensorFlow.js' registry API
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
    replaceKernel("Identity", "wasm", (orig) => (args) => shareData(args, orig));
    replaceKernel("Cast", "wasm", (orig) => (args) => shareData(args, orig));
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
  if (!config) throw new Error(`TensorFlow.js kernel ${name} is not registered for backend ${backendName}`);
  tf.unregisterKernel(name, backendName);
  tf.registerKernel({
    ...config,
    kernelFunc: wrap(config.kernelFunc as unknown as KernelCall) as unknown as tf.KernelFunc,
  });
}

function kernel(name: string, backendName: string): KernelCall {
  const config = tf.getKernel(name, backendName);
  if (!config) throw new Error(`TensorFlow.js kernel ${name} is not registered for backend ${backendName}`);
  return config.kernelFunc as unknown as KernelCall;
}

type Shape4 = [number, number, number, number];

/** The inputs and convolution geometry of a Conv2DBackpropFilter call (NHWC only). */
function filterGradientInputs(args: Parameters<KernelCall>[0]) {
  const { inputs, attrs = {} } = args;
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
  return { x, dy, info, filterShape };
}

function conv2dBackpropFilter(args: Parameters<KernelCall>[0], backendName: string): TensorInfo {
  const { backend } = args;
  const { x, dy, info, filterShape } = filterGradientInputs(args);
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

/** Identity, or Cast to the tensor's own dtype: the output shares the input's buffer. */
function shareData(args: Parameters<KernelCall>[0], orig: KernelCall): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const dtype = (args.attrs?.dtype as tf.DataType | undefined) ?? x.dtype;
  if (dtype !== x.dtype || x.dtype === "string") return orig(args);
  (args.backend as { incRef(id: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/** Geometry of a 2-D pooling window (NHWC), as TensorFlow.js' Conv2DInfo reports it. */
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
 * window order, the rule of TensorFlow.js' cpu backend and PyTorch). `dx` must be zeroed by the caller.
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
  const geometry: PoolGeometry = {
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
  };
  const xView = wasm.typedArrayFromHeap(input);
  const dyView = wasm.typedArrayFromHeap(dy);
  if (isTiling(geometry)) maxPoolGradTiledNHWC(xView, dyView, dxView, geometry);
  else {
    dxView.fill(0);
    maxPoolGradNHWC(xView, dyView, dxView, geometry);
  }
  return dx;
}

/** Windows that tile the input exactly (stride = window, no padding or dilation, no remainder). */
export function isTiling(g: PoolGeometry): boolean {
  return (
    g.strideHeight === g.filterHeight &&
    g.strideWidth === g.filterWidth &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.inHeight === g.outHeight * g.filterHeight &&
    g.inWidth === g.outWidth * g.filterWidth
  );
}

/**
 * maxPoolGradNHWC for windows that tile the input ({@link isTiling}, e.g. the 2x2/2 pools of the
 * models): every input element belongs to exactly one window, so each is written once (the
 * gradient at the window's first maximum, 0 elsewhere) and `dx` needs no zeroing first. 2x2
 * windows, the common case, keep the four candidates in registers.
 */
export function maxPoolGradTiledNHWC(
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  g: PoolGeometry,
): void {
  const C = g.channels;
  const fh = g.filterHeight;
  const fw = g.filterWidth;
  const rowStride = g.inWidth * C;
  let o = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const lineBase = (b * g.inHeight + oh * fh) * rowStride;
      for (let ow = 0; ow < g.outWidth; ow++, o += C) {
        const base = lineBase + ow * fw * C;
        if (fh === 2 && fw === 2) {
          for (let c = 0; c < C; c++) {
            const i0 = base + c;
            const i1 = i0 + C;
            const i2 = i0 + rowStride;
            const i3 = i2 + C;
            const v0 = x[i0] as number;
            const v1 = x[i1] as number;
            const v2 = x[i2] as number;
            const v3 = x[i3] as number;
            // First maximum in row-major window order; NaN never wins (as the generic loop).
            let at = 0;
            let best = v0;
            if (v1 > best) {
              best = v1;
              at = 1;
            }
            if (v2 > best) {
              best = v2;
              at = 2;
            }
            if (v3 > best) at = 3;
            const grad = dy[o + c] as number;
            dx[i0] = at === 0 ? grad : 0;
            dx[i1] = at === 1 ? grad : 0;
            dx[i2] = at === 2 ? grad : 0;
            dx[i3] = at === 3 ? grad : 0;
          }
          continue;
        }
        for (let c = 0; c < C; c++) {
          let at = base + c;
          let best = x[at] as number;
          for (let h = 0; h < fh; h++) {
            for (let w = 0; w < fw; w++) {
              const i = base + h * rowStride + w * C + c;
              const v = x[i] as number;
              if (v > best) {
                best = v;
                at = i;
              }
              dx[i] = 0;
            }
          }
          dx[at] = dy[o + c] as number;
        }
      }
    }
  }
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
  const flipped = kernel("Reverse", "wasm")({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } });
  const swapped = kernel(
    "Transpose",
    "wasm",
  )({ inputs: { x: flipped }, backend, attrs: { perm: [0, 1, 3, 2] } });
  // XNNPACK pads implicitly: explicit padding saves materialising a padded copy of dy.
  const result = kernel(
    "Conv2D",
    "wasm",
  )({
    inputs: { x: dy, filter: swapped },
    backend,
    attrs: {
      strides: [1, 1],
      pad: [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      dataFormat: "NHWC",
      dilations: 1,
      dimRoundingMode: undefined,
    },
  });
  backend.disposeData(flipped.dataId);
  backend.disposeData(swapped.dataId);
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
 * Transposed patch matrix of a NHWC input: row (fh, fw, c), column (b, oh, ow), zero outside the
 * image; `colT` has (filterHeight*filterWidth*inChannels) x (batch*outHeight*outWidth) entries.
 */
export function im2colTransposedNHWC(x: Float32Array, colT: Float32Array, g: ConvGeometry): void {
  const C = g.inChannels;
  const rowLength = g.batch * g.outHeight * g.outWidth;
  const sw = g.strideWidth * C;
  for (let fh = 0; fh < g.filterHeight; fh++) {
    for (let fw = 0; fw < g.filterWidth; fw++) {
      const rowBase = (fh * g.filterWidth + fw) * C * rowLength;
      // Output columns ow whose input column ow*stride - padLeft + fw lies inside the image.
      const first = Math.max(0, Math.ceil((g.padLeft - fw) / g.strideWidth));
      const last = Math.min(g.outWidth, Math.floor((g.inWidth - 1 + g.padLeft - fw) / g.strideWidth) + 1);
      // One output line at a time: its source pixels (a few KB) stay in L1 while the C rows of
      // colT are written in short contiguous runs.
      for (let line = 0; line < g.batch * g.outHeight; line++) {
        const b = (line / g.outHeight) | 0;
        const oh = line - b * g.outHeight;
        const ih = oh * g.strideHeight - g.padTop + fh;
        const lineStart = rowBase + line * g.outWidth;
        if (ih < 0 || ih >= g.inHeight || last <= first) {
          for (let c = 0, d = lineStart; c < C; c++, d += rowLength) colT.fill(0, d, d + g.outWidth);
          continue;
        }
        const src0 = ((b * g.inHeight + ih) * g.inWidth + first * g.strideWidth - g.padLeft + fw) * C;
        for (let c = 0, d = lineStart; c < C; c++, d += rowLength) {
          // Padding runs are a pixel or two: plain stores beat fill()'s call overhead.
          for (let ow = 0; ow < first; ow++) colT[d + ow] = 0;
          for (let ow = first, src = src0 + c; ow < last; ow++, src += sw) colT[d + ow] = x[src] as number;
          for (let ow = last; ow < g.outWidth; ow++) colT[d + ow] = 0;
        }
      }
    }
  }
}

/**
 * dW [kh,kw,ci,co] = colT · dy, colT being the transposed patch matrix built directly in JS. The
 * wasm matmul (XNNPACK fully connected) repacks its right operand on every call, which costs more
 * than the product for a big operand (the patch matrix of conv1 in the benchmark CNN: 30 ms of
 * packing against a 20 ms product), and a materialised transpose is as expensive: with the patches
 * on the left, only dy is packed and the result comes out in filter layout.
 */
function conv2dBackpropFilterIm2col(args: Parameters<KernelCall>[0]): TensorInfo {
  const { backend } = args;
  const { x, dy, info, filterShape } = filterGradientInputs(args);
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const cols = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const geometry: ConvGeometry = {
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
  };
  const wasm = backend as WasmBackendLike;
  const reshape = kernel("Reshape", "wasm");
  const matMul = kernel("BatchMatMul", "wasm");
  const colT = wasm.makeOutput([1, cols, rows], "float32");
  im2colTransposedNHWC(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(colT), geometry);
  const dy3 = reshape({ inputs: { x: dy }, backend, attrs: { shape: [1, rows, co] } });
  const dw = matMul({
    inputs: { a: colT, b: dy3 },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }); // [1, cols, co]
  const result = reshape({ inputs: { x: dw }, backend, attrs: { shape: filterShape } });
  for (const t of [colT, dy3, dw]) backend.disposeData(t.dataId);
  return result;
}

/** Column sums of a rows x cols row-major matrix (float64 accumulation). */
export function columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  const c2 = 2 * cols;
  const c3 = 3 * cols;
  let r = 0;
  let i = 0;
  // Four rows per pass: a quarter of the accumulator loads and stores.
  for (; r + 4 <= rows; r += 4, i += 3 * cols)
    for (let c = 0; c < cols; c++, i++)
      acc[c] =
        (acc[c] as number) +
        ((x[i] as number) + (x[i + cols] as number) + (x[i + c2] as number) + (x[i + c3] as number));
  for (; r < rows; r++) for (let c = 0; c < cols; c++, i++) acc[c] = (acc[c] as number) + (x[i] as number);
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
