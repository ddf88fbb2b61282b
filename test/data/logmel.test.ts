import { describe, expect, it } from "vitest";
import {
  frameCount,
  hannWindow,
  hzToMel,
  logMelSpectrogram,
  melFilterbank,
  melToHz,
  powerSpectrogram,
} from "../../src/data/logmel.js";
import { fitLength, mixToMono, resample } from "../../src/data/resample.js";

function sine(freq: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from(
    { length: Math.round(rate * seconds) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate),
  );
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / (to - from));
}

describe("mel scale and filterbank", () => {
  it("uses the HTK mel scale (1000 Hz ≈ 1000 mel) and inverts", () => {
    expect(hzToMel(1000)).toBeCloseTo(999.99, 1);
    expect(melToHz(hzToMel(4321))).toBeCloseTo(4321, 6);
  });

  it("builds triangular filters that peak at 1 and cover the band", () => {
    const fb = melFilterbank(16000, 512, 40, 0, 8000);
    const bins = 257;
    expect(fb.length).toBe(40 * bins);
    for (let m = 0; m < 40; m++) {
      const row = fb.subarray(m * bins, (m + 1) * bins);
      expect(Math.max(...row)).toBeGreaterThan(0.5);
      expect(Math.max(...row)).toBeLessThanOrEqual(1);
      expect(Math.min(...row)).toBeGreaterThanOrEqual(0);
    }
    // Adjacent triangles overlap so that their sum is 1 between the first and last centre.
    const k = Math.round((1000 * 512) / 16000);
    let sum = 0;
    for (let m = 0; m < 40; m++) sum += fb[m * bins + k] as number;
    expect(sum).toBeCloseTo(1, 5);
  });

  it("has a periodic Hann window", () => {
    const w = hannWindow(4);
    expect(Array.from(w).map((v) => Number(v.toFixed(6)))).toEqual([0, 0.5, 1, 0.5]);
  });
});

describe("spectrograms", () => {
  it("puts a sine's power in its FFT bin, with Parseval's energy", () => {
    const rate = 16000;
    const nFft = 512;
    const freq = (32 * rate) / nFft; // exactly bin 32
    const x = sine(freq, rate, 0.25, 1);
    const p = powerSpectrogram(x, nFft, 128);
    const bins = nFft / 2 + 1;
    expect(p.length).toBe(frameCount(x.length, 128) * bins);
    const t = 10; // an interior frame
    const frame = p.subarray(t * bins, (t + 1) * bins);
    let peak = 0;
    for (let k = 1; k < bins; k++) if ((frame[k] as number) > (frame[peak] as number)) peak = k;
    expect(peak).toBe(32);
    // Windowed unit sine: |X_k|² = (A · Σw / 2)² = (nFft/4)².
    expect(Math.sqrt(frame[32] as number)).toBeCloseTo(nFft / 4, 0);
  });

  it("gives [frames × n_mels] log-mel with the energy of a 1 kHz tone in the band around 1 kHz", () => {
    const params = { sampleRate: 16000, nFft: 512, hopLength: 160, nMels: 40, fmin: 0, fmax: 8000 };
    const x = sine(1000, 16000, 1);
    const lm = logMelSpectrogram(x, params);
    const frames = frameCount(16000, 160);
    expect(frames).toBe(101);
    expect(lm.length).toBe(frames * 40);
    const fb = melFilterbank(16000, 512, 40, 0, 8000);
    // The strongest band of a middle frame is the filter with the largest weight at 1 kHz.
    const k = 32;
    let expected = 0;
    for (let m = 0; m < 40; m++)
      if ((fb[m * 257 + k] as number) > (fb[expected * 257 + k] as number)) expected = m;
    const row = lm.subarray(50 * 40, 51 * 40);
    const loudest = row.indexOf(Math.max(...row));
    expect(Math.abs(loudest - expected)).toBeLessThanOrEqual(1);
    // Far bands are at least 40 dB quieter.
    expect((row[loudest] as number) - (row[39] as number)).toBeGreaterThan(40);
    // Silence sits at the -100 dB floor.
    const quiet = logMelSpectrogram(new Float32Array(1600), params);
    expect(Math.max(...quiet)).toBe(-100);
  });
});

describe("signal preparation", () => {
  it("mixes channels to their mean", () => {
    expect(Array.from(mixToMono([Float32Array.of(1, 0, 2), Float32Array.of(0, 1, 0)]))).toEqual([
      0.5, 0.5, 1,
    ]);
  });

  it("pads with zeros or trims to a fixed length", () => {
    expect(Array.from(fitLength(Float32Array.of(1, 2), 4))).toEqual([1, 2, 0, 0]);
    expect(Array.from(fitLength(Float32Array.of(1, 2, 3), 2))).toEqual([1, 2]);
  });

  it("upsamples a tone faithfully", () => {
    const x = sine(440, 8000, 0.5);
    const y = resample(x, 8000, 16000);
    expect(y.length).toBe(8000);
    const ref = sine(440, 16000, 0.5);
    let err = 0;
    for (let i = 1000; i < 7000; i++) err = Math.max(err, Math.abs((y[i] as number) - (ref[i] as number)));
    expect(err).toBeLessThan(0.01);
  });

  it("removes content above the new Nyquist frequency when downsampling", () => {
    const passed = resample(sine(1000, 48000, 0.2), 48000, 16000);
    const blocked = resample(sine(10000, 48000, 0.2), 48000, 16000);
    expect(passed.length).toBe(3200);
    expect(rms(passed, 200, 3000)).toBeCloseTo(0.5 / Math.SQRT2, 2);
    expect(rms(blocked, 200, 3000)).toBeLessThan(0.005);
  });
});
