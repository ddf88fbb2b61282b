import { writeFileAtomicSync } from "../util/atomic.js";
import { type ExploreData, sampleImage, savedTags } from "./data.js";
import { explorePage, readBundle } from "./page.js";
import type { StaticData } from "./types.js";

/**
 * The read-only copy (`curricula explore … --static out.html`): one HTML file holding the front end,
 * the table, every sample's image (as a data: URL) and every run's curves, so it opens from a file
 * without a server or a network. Tags are shown as saved and cannot be changed.
 */
export function staticData(data: ExploreData): StaticData {
  const table = {
    ...data.table,
    tags: savedTags(data.resultsDir, data.experiment),
    readOnly: true,
  };
  const images = table.image
    ? Array.from({ length: table.size }, (_, position) => {
        const png = sampleImage(data, position);
        return png ? `data:image/png;base64,${Buffer.from(png).toString("base64")}` : "";
      })
    : null;
  const curves = data.curves.map((run) => ({
    iterations: run.iterations,
    probabilities: run.probabilities.map((p) => Array.from(p, (v) => Number(v.toPrecision(5)))),
  }));
  return { table, images, curves };
}

/** Writes the static copy to `out` (atomically) and returns its path. */
export function writeExploreStatic(data: ExploreData, out: string, bundlePath?: string): string {
  const page = explorePage({
    title: `curricula explore · ${data.experiment} (read-only copy)`,
    bundle: readBundle(bundlePath),
    data: JSON.stringify(staticData(data)),
  });
  writeFileAtomicSync(out, page);
  return out;
}
