import type { ScoreRows } from "../../results/score-table.js";
import { DataError } from "../../util/errors.js";

/**
 * Ensembles of scores whose per-run columns are averaged (AUM, Forgetting, Cartography, EL2N, GraNd,
 * ConfidentLearning's probabilities): the rows of the first group with each named column replaced
 * by its mean over the groups, NaN skipped; every other column is dropped. Groups are already
 * aligned by index (AbstractScore.readGroups checks source_index and class).
 */
export function averageColumns(
  groups: readonly { label: string; rows: ScoreRows }[],
  names: readonly string[],
): ScoreRows {
  const first = groups[0];
  if (!first) throw new Error("averageColumns: no runs");
  const n = first.rows.index.length;
  const columns = new Map<string, Float64Array>();
  for (const name of names) {
    const sum = new Float64Array(n);
    const seen = new Float64Array(n);
    for (const g of groups) {
      const values = g.rows.columns.get(name);
      if (!values) {
        throw new DataError(
          `${g.label}: no '${name}' column (expected ${names.join(", ")}); delete the folder to recompute it`,
        );
      }
      for (let i = 0; i < n; i++) {
        const v = values[i] as number;
        if (Number.isNaN(v)) continue;
        sum[i] = (sum[i] as number) + v;
        seen[i] = (seen[i] as number) + 1;
      }
    }
    columns.set(
      name,
      Float64Array.from(sum, (s, i) => ((seen[i] as number) > 0 ? s / (seen[i] as number) : Number.NaN)),
    );
  }
  return { ...first.rows, columns };
}
