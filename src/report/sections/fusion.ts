import { join } from "node:path";
import { fusionRoot } from "../../config/layout.js";
import { conditionOfCode, tryParseRunName } from "../../config/naming.js";
import { escapeHtml, note, type TableCell, table } from "../../plots/html.js";
import { meanStd } from "../../plots/stats.js";
import { type FusionCard, listFusions, readFusionCard } from "../../results/analysis-tables.js";
import type { ExperimentData } from "../collect.js";
import type { ReportSection } from "../context.js";
import { fmt } from "./shared.js";

function conditionOfName(name: string): string {
  const code = tryParseRunName(name)?.curriculum;
  return (code === undefined ? null : conditionOfCode(code)) ?? name;
}

/** The late-fusion table: each fused name's own ensemble, the equal-size baseline, the fusion. */
function fusionBody(data: ExperimentData, problems: string[]): string {
  const dir = fusionRoot(data.resultsDir, data.experimentId);
  const ids = listFusions(dir);
  if (ids.length === 0) {
    return note(
      "No late fusion (fusion/<id>/fusion.yaml); run `curricula fuse` or a study with fusion: true.",
    );
  }
  const parts: string[] = [
    `<p class="lead">Late fusion averages the softmax outputs of the members on the test subset and predicts the argmax. Rows: each fused condition's own seed ensemble, an ensemble of as many baseline seeds (when the experiment has that many), and the fusion of all members.</p>`,
  ];
  for (const id of ids) {
    let doc: FusionCard;
    try {
      doc = readFusionCard(join(dir, id));
    } catch (error) {
      problems.push((error as Error).message);
      continue;
    }
    const metrics = doc.metrics;
    const names = Object.keys(metrics ?? {});
    const single = (doc.single ?? {}) as Record<string, Record<string, number>>;
    const row = (
      label: string,
      members: string[],
      m: Record<string, number>,
      bold = false,
    ): (string | TableCell)[] => {
      const singles = members
        .map((r) => single[r]?.[names[0] as string])
        .filter((v): v is number => typeof v === "number");
      return [
        { html: bold ? `<strong>${escapeHtml(label)}</strong>` : escapeHtml(label) },
        { html: String(members.length), className: "num" },
        ...names.map((n) => ({ html: fmt(m[n], 4), className: bold ? "num best" : "num" })),
        { html: singles.length > 0 ? fmt(meanStd(singles).mean, 4) : "–", className: "num" },
      ];
    };
    const rows: (string | TableCell)[][] = [];
    for (const [name, ensemble] of Object.entries(
      (doc.ensembles ?? {}) as Record<string, { members: string[]; metrics: Record<string, number> }>,
    )) {
      rows.push(row(`${conditionOfName(name)} (seed ensemble)`, ensemble.members, ensemble.metrics));
    }
    const baseline = doc.baseline as {
      members?: string[];
      metrics?: Record<string, number>;
      reason?: string;
    };
    if (baseline?.metrics && baseline.members) {
      rows.push(
        row(`Baseline, ${baseline.members.length} seeds (equal size)`, baseline.members, baseline.metrics),
      );
    }
    rows.push(row("Late fusion of all members", (doc.members as string[]) ?? [], metrics, true));
    parts.push(
      `<h3>${escapeHtml(id)}</h3>`,
      table(
        ["ensemble", "models", ...names.map((n) => `test ${n}`), `mean single-model ${names[0] ?? ""}`],
        rows,
        "metrics",
      ),
    );
    if ("reason" in baseline) parts.push(note(`No equal-size baseline ensemble: ${baseline.reason}.`));
  }
  return parts.join("\n");
}

/** Late fusion of the conditions (fusion/<id>/fusion.yaml). */
export const fusionSection: ReportSection = {
  id: "fusion",
  title: "Late fusion",
  nav: "Late fusion",
  build: (ctx) => Promise.resolve(fusionBody(ctx.data, ctx.problems)),
};
