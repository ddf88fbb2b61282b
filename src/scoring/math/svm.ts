/**
 * Pure helpers around libsvm models: scikit-learn's `gamma="scale"` and the one-vs-one decision
 * values of a saved C-SVC RBF model (libsvm-js exposes no decision function), from which the signed
 * margin of the true class is read.
 */

/** scikit-learn's gamma="scale": 1 / (n_features · Var(X)) over all entries; 1/n_features when Var is 0. */
export function gammaScale(x: Float32Array, dim: number): number {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i] as number;
  mean /= x.length;
  let variance = 0;
  for (let i = 0; i < x.length; i++) variance += ((x[i] as number) - mean) ** 2;
  variance /= x.length;
  return variance > 0 ? 1 / (dim * variance) : 1 / dim;
}

/** A parsed libsvm C-SVC model with an RBF kernel (dense support vectors). */
export interface RbfSvmModel {
  gamma: number;
  /** Class labels in the model's order. */
  labels: number[];
  /** Support vectors per class, in label order. */
  nSV: number[];
  /** rho of each pair (i < j) in libsvm's order. */
  rho: number[];
  /** nSVtotal × dim. */
  sv: Float64Array;
  /** (nrClass − 1) × nSVtotal dual coefficients. */
  coef: Float64Array;
  dim: number;
}

/** Parses the text of `svm_save_model` (libsvm-js `serializeModel()`). */
export function parseLibsvmModel(text: string, dim: number): RbfSvmModel {
  const [head, body = ""] = text.split(/^SV\s*$/m);
  const header = new Map<string, string[]>();
  for (const line of (head as string).split("\n")) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key) header.set(key, values);
  }
  if (header.get("kernel_type")?.[0] !== "rbf") throw new Error("expected an RBF libsvm model");
  const nums = (key: string) => (header.get(key) ?? []).map(Number);
  const nrClass = nums("nr_class")[0] as number;
  const lines = body
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const total = lines.length;
  const sv = new Float64Array(total * dim);
  const coef = new Float64Array((nrClass - 1) * total);
  lines.forEach((line, k) => {
    const parts = line.split(/\s+/);
    for (let j = 0; j < nrClass - 1; j++) coef[j * total + k] = Number(parts[j]);
    for (const entry of parts.slice(nrClass - 1)) {
      const [index, value] = entry.split(":");
      sv[k * dim + Number(index) - 1] = Number(value);
    }
  });
  return {
    gamma: nums("gamma")[0] as number,
    labels: nums("label"),
    nSV: nums("nr_sv"),
    rho: nums("rho"),
    sv,
    coef,
    dim,
  };
}

/**
 * Signed margin of the true class: min over other classes b of the pairwise decision value
 * f(y vs b) (positive when y wins every one-vs-one vote). Large = far on the right side = easy.
 */
export function trueClassMargins(model: RbfSvmModel, x: Float32Array, labels: Int32Array): Float64Array {
  const { dim, nSV, labels: order } = model;
  const total = nSV.reduce((a, b) => a + b, 0);
  const k = order.length;
  const start = nSV.map((_, i) => nSV.slice(0, i).reduce((a, b) => a + b, 0));
  const classOf = new Map(order.map((label, i) => [label, i]));
  const kernel = new Float64Array(total);
  const out = new Float64Array(labels.length);
  for (let s = 0; s < labels.length; s++) {
    for (let t = 0; t < total; t++) {
      let d = 0;
      for (let f = 0; f < dim; f++)
        d += ((x[s * dim + f] as number) - (model.sv[t * dim + f] as number)) ** 2;
      kernel[t] = Math.exp(-model.gamma * d);
    }
    const a = classOf.get(labels[s] as number);
    if (a === undefined) throw new Error(`class ${labels[s]} was not among the SVM's training labels`);
    let margin = Number.POSITIVE_INFINITY;
    let p = 0;
    for (let i = 0; i < k; i++) {
      for (let j = i + 1; j < k; j++, p++) {
        if (i !== a && j !== a) continue;
        let sum = 0;
        for (let t = 0; t < (nSV[i] as number); t++)
          sum +=
            (model.coef[(j - 1) * total + (start[i] as number) + t] as number) *
            (kernel[(start[i] as number) + t] as number);
        for (let t = 0; t < (nSV[j] as number); t++)
          sum +=
            (model.coef[i * total + (start[j] as number) + t] as number) *
            (kernel[(start[j] as number) + t] as number);
        const decision = sum - (model.rho[p] as number);
        margin = Math.min(margin, i === a ? decision : -decision);
      }
    }
    out[s] = margin;
  }
  return out;
}
