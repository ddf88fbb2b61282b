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
