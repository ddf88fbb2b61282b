import { type ComparedRun, compareRuns, computeLine, verdictLine } from "../../experiments/comparison.js";
import { lineChart } from "../../plots/charts.js";
import { escapeHtml, note, table } from "../../plots/html.js";
import type { VegaLiteSpec } from "../../plots/render.js";
import type { RunData, RunGroup } from "../collect.js";
import type { ReportSection } from "../context.js";
import { groupCurves, groupLines } from "./shared.js";

/**
 * The report's opening: the plain-language verdict of each condition against the baseline (paired
 * over seeds: experiments/comparison.ts, the numbers of summary/comparison.csv and of
 * `curricula compare`), the compute-to-accuracy table, and the dev metric against samples seen.
 */
async function verdictBody(
  groups: readonly RunGroup[],
  tracking: string,
  render: (spec: VegaLiteSpec, caption: string) => Promise<string>,
): Promise<string> {
  const runs: ComparedRun[] = groups.flatMap((g) =>
    g.runs.filter((r) => r.finished && r.fields && r.metrics).map(comparedRun),
  );
  const { comparisons, compute } = compareRuns(runs, { metrics: [tracking] });
  const parts: string[] = [];
  if (comparisons.length === 0) {
    parts.push(
      note(
        "No paired comparison: no condition shares its settings and seeds with a baseline run (curriculum None).",
      ),
    );
  } else {
    parts.push(
      `<p class="lead">Each condition minus the baseline on the same seeds: mean paired difference, bootstrap 95% interval (percentile, 10,000 resamples), exact sign-flip p-value (Holm-corrected across the table), and what the number of seeds can show.</p>`,
      `<ul class="verdict">${comparisons.map((c) => `<li>${escapeHtml(verdictLine(c))}</li>`).join("")}</ul>`,
    );
    parts.push(
      `<p class="lead">Compute to accuracy: samples seen (sum of the batch sizes drawn) until the dev ${escapeHtml(tracking)} first reaches the baseline's best on the same seed, as a ratio to the baseline's.</p>`,
      table(
        ["condition", "seeds reaching", "samples vs baseline", "95% interval", ""],
        compute.map((c) => [
          c.conditionName,
          { html: `${c.reached} of ${c.n}`, className: "num" },
          { html: Number.isFinite(c.ratio) ? `${c.ratio.toFixed(2)}×` : "never", className: "num" },
          {
            html: Number.isFinite(c.low) ? `[${c.low.toFixed(2)}, ${c.high.toFixed(2)}]` : "—",
            className: "num",
          },
          computeLine(c),
        ]),
        "metrics",
      ),
    );
  }
  const data = groupCurves(groups, tracking, "samples_seen");
  if (data.length > 0) {
    parts.push(
      await render(
        lineChart({
          data,
          x: "samples_seen",
          y: "value",
          ...groupLines(groups),
          title: `Dev ${tracking} against samples seen`,
          xTitle: "samples seen",
          yTitle: tracking,
          points: data.length <= 200,
          width: 520,
          height: 260,
        }),
        `Dev ${tracking} at each evaluation against the samples passed through forward and backward so far; colour = condition, one line per seed.`,
      ),
    );
  }
  return parts.join("\n");
}

function comparedRun(run: RunData): ComparedRun {
  return {
    name: run.name,
    rows: run.metrics?.rows ?? [],
    test: run.test ?? {},
    config: run.config ?? {},
  };
}

/** The report's opening: the verdict of each condition against the baseline, and compute to accuracy. */
export const verdictSection: ReportSection = {
  id: "verdict",
  title: "Verdict",
  nav: "Verdict",
  build: (ctx) => verdictBody(ctx.groups, ctx.tracking, ctx.render),
};
