import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Synthetic audio files for the AudioFolder tests. */

/** A 16-bit PCM WAV file (RIFF little-endian) of the given channels. */
export function wav(channels: Float32Array[], sampleRate: number): Uint8Array {
  const n = channels[0]?.length ?? 0;
  const c = channels.length;
  const out = new Uint8Array(44 + n * c * 2);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  text(0, "RIFF");
  v.setUint32(4, 36 + n * c * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, c, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * c * 2, true);
  v.setUint16(32, c * 2, true);
  v.setUint16(34, 16, true);
  text(36, "data");
  v.setUint32(40, n * c * 2, true);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const s = Math.max(-1, Math.min(1, (channels[ch] as Float32Array)[i] as number));
      v.setInt16(44 + (i * c + ch) * 2, Math.round(s * 32767), true);
    }
  }
  return out;
}

export function tone(freq: number, rate: number, seconds: number): Float32Array {
  return Float32Array.from(
    { length: Math.round(rate * seconds) },
    (_, i) => 0.4 * Math.sin((2 * Math.PI * freq * i) / rate),
  );
}

/**
 * A folder `root` of low (300 Hz) and high (3 kHz) tones at mixed rates and channel counts, listed in
 * `index.csv` (with a split column when `withSplit`: the last four files are dev and test). Returns `root`.
 */
export function toneFolder(root: string, withSplit: boolean, count = 10): string {
  mkdirSync(join(root, "clips"), { recursive: true });
  const lines = [withSplit ? "path,label,split" : "path,label"];
  for (let i = 0; i < count; i++) {
    const label = i % 2 === 0 ? "low" : "high";
    const rate = [8000, 16000, 22050][i % 3] as number;
    const x = tone(label === "low" ? 300 : 3000, rate, 0.3 + 0.1 * (i % 4));
    const channels = i % 4 === 1 ? [x, x] : [x];
    writeFileSync(join(root, "clips", `${i}.wav`), wav(channels, rate));
    const split = i < count - 4 ? "train" : i < count - 2 ? "dev" : "test";
    lines.push(withSplit ? `clips/${i}.wav,${label},${split}` : `clips/${i}.wav,${label}`);
  }
  writeFileSync(join(root, "index.csv"), `${lines.join("\n")}\n`);
  return root;
}

/** Small log-mel parameters for the tone folders: 32 frames × 16 mel bands. */
export const SMALL_LOGMEL = { n_mels: 16, n_fft: 256, hop_length: 128, duration: 0.5, sample_rate: 8000 };
