import { isLoss } from "../../config/schema.js";
import { escapeHtml, note, table } from "../../plots/html.js";
import type { RunGroup } from "../collect.js";
import type { ReportSection } from "../context.js";
import { conditionBadge } from "./shared.js";

function runsBody(groups: RunGroup[], tracking: string): string {
  const runs = groups.flatMap((g) => g.runs.map((r) => ({ run: r, group: g })));
  if (runs.length === 0) {
    return note("No training runs (no training/ folder in this experiment).");
  }
  const rows = runs.map(({ run, group }) => {
    const column = run.metrics?.rows.map((r) => r[tracking] as number).filter(Number.isFinite) ?? [];
    const best =
      column.length > 0 ? (isLoss(tracking) ? Math.min(...column) : Math.max(...column)) : Number.NaN;
    const test = run.test?.[tracking];
    return [
      { html: conditionBadge(run.condition) },
      group.label,
      run.seed,
      { html: escapeHtml(run.name), className: "run" },
      run.finished ? "finished" : "unfinished",
      { html: Number.isFinite(best) ? best.toFixed(4) : "–", className: "num" },
      { html: test === undefined ? "–" : test.toFixed(4), className: "num" },
    ];
  });
  return table(
    ["condition", "group", "seed", "run", "status", `best dev ${tracking}`, `test ${tracking}`],
    rows,
  );
}

/** Every training run with its status and metrics. */
export const runsSection: ReportSection = {
  id: "runs",
  title: "Runs",
  nav: "Runs",
  build: (ctx) => Promise.resolve(runsBody(ctx.groups, ctx.tracking)),
};
