import type { ExploreColumn, ExploreTable, ExploreTag } from "../types.js";

/**
 * The page's state without the DOM: which samples pass the filters, in which order, and the tags.
 * Sorting and filtering work on typed arrays, so 60,000 samples re-sort in tens of milliseconds.
 */

/** Category filters: any non-empty value, or an empty one (e.g. label noise: changed, unchanged). */
export const ANY_VALUE = "\u0001any";
export const NO_VALUE = "\u0001none";

export type TagFilter = "" | "tagged" | "untagged" | "mislabelled" | "ambiguous" | "relabel";

export interface Filters {
  /** Class code of the label, −1 for any. */
  label: number;
  /** Class code of the (majority) prediction, −1 for any. */
  predicted: number;
  tag: TagFilter;
  /** Category column key → the value kept. */
  categories: Map<string, string>;
  /** The data map's brush: only the samples inside it (1 per position), or null for all. */
  brushed: Uint8Array | null;
}

/** `position`, `source`, `label`, `predicted`, `tag`, or a column key. */
export interface Sort {
  key: string;
  direction: 1 | -1;
}

export class ExploreState {
  readonly table: ExploreTable;
  readonly columns: Map<string, ExploreColumn>;
  tags = new Map<number, ExploreTag>();
  filters: Filters = { label: -1, predicted: -1, tag: "", categories: new Map(), brushed: null };
  sort: Sort = { key: "position", direction: 1 };
  /** Positions passing the filters, in sort order. */
  view: Int32Array;

  constructor(table: ExploreTable) {
    this.table = table;
    this.columns = new Map(table.columns.map((c) => [c.key, c]));
    this.setTags(table.tags);
    this.view = Int32Array.from({ length: table.size }, (_, i) => i);
  }

  setTags(tags: readonly ExploreTag[]): void {
    this.tags = new Map(tags.map((t) => [t.sourceIndex, t]));
  }

  tagOf(position: number): ExploreTag | undefined {
    return this.tags.get(this.table.sourceIndex[position] as number);
  }

  /** The text a tag shows: `mislabelled`, `ambiguous`, `relabel → 7`. */
  tagText(position: number): string {
    const tag = this.tagOf(position);
    if (!tag) return "";
    return tag.tag === "relabel" ? `relabel → ${tag.newLabel ?? ""}` : tag.tag;
  }

  private passes(position: number): boolean {
    const { label, predicted, tag, categories, brushed } = this.filters;
    if (brushed && brushed[position] !== 1) return false;
    if (label >= 0 && this.table.label[position] !== label) return false;
    if (predicted >= 0 && this.table.predicted[position] !== predicted) return false;
    if (tag !== "") {
      const t = this.tagOf(position);
      if (tag === "tagged" ? !t : tag === "untagged" ? Boolean(t) : t?.tag !== tag) return false;
    }
    for (const [key, wanted] of categories) {
      const value = this.columns.get(key)?.values[position] ?? "";
      if (wanted === ANY_VALUE ? value === "" : wanted === NO_VALUE ? value !== "" : value !== wanted)
        return false;
    }
    return true;
  }

  /** Numeric sort keys per position (NaN sorts last); strings for category columns. */
  private keys(): { numbers: Float64Array | null; strings: string[] | null } {
    const { key } = this.sort;
    const n = this.table.size;
    const t = this.table;
    if (key === "position") return { numbers: Float64Array.from({ length: n }, (_, i) => i), strings: null };
    if (key === "source") return { numbers: Float64Array.from(t.sourceIndex), strings: null };
    if (key === "label") return { numbers: null, strings: t.label.map((c) => t.classNames[c] ?? "") };
    if (key === "predicted")
      return { numbers: null, strings: t.predicted.map((c) => (c < 0 ? "" : (t.classNames[c] ?? ""))) };
    if (key === "tag")
      return { numbers: null, strings: Array.from({ length: n }, (_, i) => this.tagText(i)) };
    const column = this.columns.get(key);
    if (!column) return { numbers: Float64Array.from({ length: n }, (_, i) => i), strings: null };
    if (column.kind === "category") return { numbers: null, strings: column.values.map(String) };
    return {
      numbers: Float64Array.from(column.values as (number | null)[], (v) => (v === null ? Number.NaN : v)),
      strings: null,
    };
  }

  /** Every position in the order of a sort, cached per column and direction (the tags change, so not theirs). */
  private readonly orders = new Map<string, Int32Array>();

  private sortedPositions(): Int32Array {
    const cacheKey = `${this.sort.direction}:${this.sort.key}`;
    const cached = this.sort.key === "tag" ? undefined : this.orders.get(cacheKey);
    if (cached) return cached;
    const all = Array.from({ length: this.table.size }, (_, i) => i);
    const { numbers, strings } = this.keys();
    const d = this.sort.direction;
    if (numbers) {
      all.sort((a, b) => {
        const x = numbers[a] as number;
        const y = numbers[b] as number;
        const xn = Number.isNaN(x);
        const yn = Number.isNaN(y);
        if (xn || yn) return xn === yn ? a - b : xn ? 1 : -1;
        return x === y ? a - b : (x - y) * d;
      });
    } else if (strings) {
      const collator = new Intl.Collator(undefined, { numeric: true });
      all.sort((a, b) => collator.compare(strings[a] as string, strings[b] as string) * d || a - b);
    }
    const order = Int32Array.from(all);
    if (this.sort.key !== "tag") this.orders.set(cacheKey, order);
    return order;
  }

  /** Applies the sort and the filters to every sample; ties keep position order, missing values last. */
  update(): void {
    const order = this.sortedPositions();
    const kept = new Int32Array(order.length);
    let count = 0;
    for (const position of order) if (this.passes(position)) kept[count++] = position;
    this.view = kept.slice(0, count);
  }

  /**
   * The positions whose values of the numeric columns `xKey` and `yKey` lie in `[x0, x1] × [y0, y1]`
   * (bounds in either order), as a mask for `filters.brushed`.
   */
  inBox(xKey: string, yKey: string, x: readonly number[], y: readonly number[]): Uint8Array {
    const xs = this.columns.get(xKey)?.values ?? [];
    const ys = this.columns.get(yKey)?.values ?? [];
    const [xa, xb] = [Math.min(x[0] ?? 0, x[1] ?? 0), Math.max(x[0] ?? 0, x[1] ?? 0)];
    const [ya, yb] = [Math.min(y[0] ?? 0, y[1] ?? 0), Math.max(y[0] ?? 0, y[1] ?? 0)];
    const mask = new Uint8Array(this.table.size);
    for (let p = 0; p < mask.length; p++) {
      const vx = xs[p];
      const vy = ys[p];
      if (typeof vx === "number" && typeof vy === "number" && vx >= xa && vx <= xb && vy >= ya && vy <= yb)
        mask[p] = 1;
    }
    return mask;
  }

  /** The rank (0 easiest … 1 hardest) and value of every score for a position. */
  scoresOf(
    position: number,
  ): { score: string; label: string; description: string; value: string | number | null }[] {
    return this.table.columns.map((c) => ({
      score: c.score,
      label: c.label,
      description: c.description,
      value: c.values[position] ?? null,
    }));
  }
}
