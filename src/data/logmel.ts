import FFT from "fft.js";

/**
 * Log-mel spectrograms as pure functions (torchaudio's MelSpectrogram defaults: centred frames
 * with reflect padding, periodic Hann window of n_fft samples, power spectrum, HTK mel scale,
 * triangular filters without area normalisation), followed by decibels as AmplitudeToDB:
 * `10 · log10(max(power, 1e-10))`.
 */
export interface LogMelParams {
  sampleRate: number;
  /** FFT size, a power of two. */
  nFft: number;
  hopLength: number;
  nMels: number;
  fmin: number;
  fmax: number;
}

/** HTK mel scale (O'Shaughnessy, 1987): mel = 2595 · log10(1 + hz / 700). */
export function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

export function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

/** Triangular mel filters, `nMels × (nFft/2 + 1)` row-major, as torchaudio.functional.melscale_fbanks. */
export function melFilterbank(
  sampleRate: number,
  nFft: number,
  nMels: number,
  fmin: number,
  fmax: number,
): Float32Array {
  const bins = nFft / 2 + 1;
  const fb = new Float32Array(nMels * bins);
  const mlo = hzToMel(fmin);
  const mhi = hzToMel(fmax);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz(mlo + ((mhi - mlo) * i) / (nMels + 1)));
  for (let m = 0; m < nMels; m++) {
    const left = edges[m] as number;
    const centre = edges[m + 1] as number;
    const right = edges[m + 2] as number;
    for (let k = 0; k < bins; k++) {
      const f = (k * sampleRate) / nFft;
      const up = (f - left) / (centre - left);
      const down = (right - f) / (right - centre);
      fb[m * bins + k] = Math.max(0, Math.min(up, down));
    }
  }
  return fb;
}

/** Periodic Hann window (as torch.hann_window). */
export function hannWindow(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Frames of a centred STFT: 1 + ⌊samples / hop⌋. */
export function frameCount(numSamples: number, hopLength: number): number {
  return 1 + Math.floor(numSamples / hopLength);
}

function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = Math.abs(i) % period;
  if (j >= n) j = period - j;
  return j;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

/** Power spectrogram `frames × (nFft/2 + 1)` of a centred, Hann-windowed STFT. */
export function powerSpectrogram(signal: Float32Array, nFft: number, hopLength: number): Float32Array {
  if (!isPowerOfTwo(nFft)) throw new RangeError(`n_fft must be a power of two, got ${nFft}`);
  const frames = frameCount(signal.length, hopLength);
  const bins = nFft / 2 + 1;
  const out = new Float32Array(frames * bins);
  if (signal.length === 0) return out;
  const fft = new FFT(nFft);
  const window = hannWindow(nFft);
  const frame = new Float64Array(nFft);
  const spectrum = fft.createComplexArray() as number[];
  const pad = nFft / 2;
  for (let t = 0; t < frames; t++) {
    const start = t * hopLength - pad;
    for (let i = 0; i < nFft; i++) {
      frame[i] = (signal[reflectIndex(start + i, signal.length)] as number) * (window[i] as number);
    }
    fft.realTransform(spectrum, frame);
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k] as number;
      const im = spectrum[2 * k + 1] as number;
      out[t * bins + k] = re * re + im * im;
    }
  }
  return out;
}

/** Log-mel spectrogram in dB, `frames × nMels` row-major. */
export function logMelSpectrogram(
  signal: Float32Array,
  params: LogMelParams,
  filterbank?: Float32Array,
): Float32Array {
  const bins = params.nFft / 2 + 1;
  const fb =
    filterbank ?? melFilterbank(params.sampleRate, params.nFft, params.nMels, params.fmin, params.fmax);
  const power = powerSpectrogram(signal, params.nFft, params.hopLength);
  const frames = power.length / bins;
  const out = new Float32Array(frames * params.nMels);
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < params.nMels; m++) {
      let acc = 0;
      for (let k = 0; k < bins; k++) acc += (power[t * bins + k] as number) * (fb[m * bins + k] as number);
      out[t * params.nMels + m] = 10 * Math.log10(Math.max(acc, 1e-10));
    }
  }
  return out;
}
