/**
 * Signal preparation for audio datasets, as pure functions over Float32Arrays: mix to mono,
 * band-limited resampling, fixed length.
 */

/** Mean of the channels (a mono signal is returned as is). */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  const first = channels[0];
  if (!first) return new Float32Array(0);
  if (channels.length === 1) return first;
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (c[i] as number);
  const k = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) * k;
  return out;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/**
 * Resamples with a Hann-windowed sinc low-pass (bandlimited interpolation, Smith: "Digital Audio
 * Resampling", ccrma.stanford.edu/~jos/resample). The cut-off is `rolloff` times the lower of the
 * two Nyquist frequencies, so downsampling does not alias; `zeros` zero crossings per side.
 */
export function resample(
  signal: Float32Array,
  fromRate: number,
  toRate: number,
  options: { zeros?: number; rolloff?: number } = {},
): Float32Array {
  if (!(fromRate > 0) || !(toRate > 0))
    throw new RangeError(`resample: rates must be positive, got ${fromRate} → ${toRate}`);
  if (fromRate === toRate) return signal;
  const zeros = options.zeros ?? 16;
  const rolloff = options.rolloff ?? 0.95;
  // Cut-off in cycles per input sample.
  const fc = 0.5 * Math.min(1, toRate / fromRate) * rolloff;
  const half = zeros / (2 * fc); // kernel half-width in input samples
  const n = signal.length;
  const outLength = Math.round((n * toRate) / fromRate);
  const out = new Float32Array(outLength);
  const step = fromRate / toRate;
  for (let j = 0; j < outLength; j++) {
    const t = j * step;
    const lo = Math.max(0, Math.ceil(t - half));
    const hi = Math.min(n - 1, Math.floor(t + half));
    let acc = 0;
    for (let k = lo; k <= hi; k++) {
      const d = t - k;
      const w = 0.5 * (1 + Math.cos((Math.PI * d) / half));
      acc += (signal[k] as number) * 2 * fc * sinc(2 * fc * d) * w;
    }
    out[j] = acc;
  }
  return out;
}

/** Pads with zeros at the end or keeps the first `length` samples. */
export function fitLength(signal: Float32Array, length: number): Float32Array {
  if (signal.length === length) return signal;
  const out = new Float32Array(length);
  out.set(signal.length > length ? signal.subarray(0, length) : signal);
  return out;
}
