import embed, { type Result } from "vega-embed";
import type { ExploreTag } from "../types.js";
import { append, clear, el, formatNumber, select } from "./dom.js";
import { pickSource, type Source } from "./source.js";
import { ANY_VALUE, ExploreState, NO_VALUE, type TagFilter } from "./state.js";

/**
 * The explorer's page: a filter bar, the virtualised sample table (only the rows in view exist in the
 * DOM), the data map (vega-embed), and the sample view with its curves. Keyboard: ↑/↓ or k/j move,
 * m mislabelled, a ambiguous, o fine (clears), a digit relabels to that class code.
 */

const ROW = 40;
const FIXED_COLUMNS = [
  ["position", "#", "position in the subset"],
  ["source", "source", "source index: the sample's place in its source data"],
  ["label", "label", "the label it trains with"],
  ["predicted", "predicted", "the most frequent final prediction over the runs"],
  ["tag", "tag", "your review tag"],
] as const;

class App {
  private readonly state: ExploreState;
  private readonly source: Source;
  private selected = -1;
  private readonly tableView = el("div", { id: "table-view", tabindex: 0 });
  private readonly head = el("div", { id: "table-head", role: "row" });
  private readonly body = el("div", { id: "table-body", role: "rowgroup" });
  private readonly sample = el("section", { id: "sample", "aria-live": "polite" });
  private readonly mapView = el("div", { id: "map-view", hidden: true });
  private readonly status = el("span", { id: "status" });
  private readonly count = el("span", { id: "count" });
  private readonly template: string;
  private readonly numberColumns: string[];
  private mapResult: Result | null = null;
  private curveResult: Result | null = null;
  private renderQueued = false;

  constructor(state: ExploreState, source: Source) {
    this.state = state;
    this.source = source;
    const t = state.table;
    const widths = [
      t.image ? "48px" : t.features ? "220px" : "0px",
      "64px",
      "72px",
      "110px",
      "110px",
      "130px",
    ];
    for (const _ of t.columns) widths.push("120px");
    this.template = widths.join(" ");
    this.numberColumns = t.columns.filter((c) => c.kind === "number").map((c) => c.key);
  }

  mount(root: HTMLElement): void {
    const t = this.state.table;
    clear(root);
    const header = el(
      "header",
      {},
      el("h1", {}, `${t.experiment} · ${t.subset}${t.datasetId ? ` · ${t.datasetId}` : ""}`),
      this.filters(),
      this.count,
      this.status,
    );
    const tabs = el(
      "div",
      { id: "tabs", role: "tablist" },
      this.tab("tab-table", "Samples", true),
      this.tab("tab-map", "Data map", false),
    );
    this.head.style.gridTemplateColumns = this.template;
    this.body.style.position = "relative";
    append(this.tableView, this.head, this.body);
    const problems = el("div", { id: "problems" });
    if (!this.source.readOnly) {
      // The files behind the page, served from the experiment's folder.
      const links = t.scores.map((s) =>
        el(
          "a",
          { href: `files/curriculum/${encodeURIComponent(s.type)}/${encodeURIComponent(s.id)}.csv` },
          s.id,
        ),
      );
      links.push(el("a", { href: "files/review/tags.csv", id: "tags-file" }, "review/tags.csv"));
      append(
        header,
        el("span", { id: "files" }, "files: ", ...links.flatMap((a, i) => (i ? [" · ", a] : [a]))),
      );
    }
    for (const problem of t.problems) problems.appendChild(el("div", {}, problem));
    append(
      root,
      header,
      problems,
      el("main", {}, el("div", { id: "left" }, tabs, this.tableView, this.mapView), this.sample),
    );
    this.renderHead();
    this.tableView.addEventListener("scroll", () => this.queueRows());
    window.addEventListener("resize", () => this.queueRows());
    document.addEventListener("keydown", (event) => this.onKey(event));
    this.update();
    append(
      this.sample,
      el(
        "p",
        { class: "keys" },
        "Click a row or use ↑/↓ (j/k). Then m mislabelled, a ambiguous, o fine, 0–9 relabel.",
      ),
    );
    if (this.source.readOnly) this.setStatus("read-only copy: tags are shown, not saved");
    document.body.dataset.ready = "true";
  }

  private tab(id: string, text: string, selected: boolean): HTMLButtonElement {
    const button = el("button", { id, role: "tab", "aria-selected": String(selected) }, text);
    button.addEventListener("click", () => {
      const map = id === "tab-map";
      this.tableView.hidden = map;
      this.mapView.hidden = !map;
      for (const other of document.querySelectorAll("#tabs button"))
        other.setAttribute("aria-selected", "false");
      button.setAttribute("aria-selected", "true");
      if (map) void this.renderMap();
      else this.queueRows();
    });
    return button;
  }

  private filters(): HTMLElement {
    const t = this.state.table;
    const classOptions = [
      ["-1", "any"] as const,
      ...t.classNames.map((name, code) => [String(code), name] as const),
    ];
    const box = el(
      "span",
      { id: "filters" },
      el(
        "label",
        {},
        "label",
        select("filter-label", classOptions, (v) => {
          this.state.filters.label = Number(v);
          this.update();
        }),
      ),
    );
    if (t.runs.length > 0) {
      append(
        box,
        el(
          "label",
          {},
          "predicted",
          select("filter-predicted", classOptions, (v) => {
            this.state.filters.predicted = Number(v);
            this.update();
          }),
        ),
      );
    }
    const tagOptions: [TagFilter, string][] = [
      ["", "any"],
      ["tagged", "tagged"],
      ["untagged", "untagged"],
      ["mislabelled", "mislabelled"],
      ["ambiguous", "ambiguous"],
      ["relabel", "relabel"],
    ];
    append(
      box,
      el(
        "label",
        {},
        "tag",
        select("filter-tag", tagOptions, (v) => {
          this.state.filters.tag = v as TagFilter;
          this.update();
        }),
      ),
    );
    t.columns.forEach((column, i) => {
      if (column.kind !== "category") return;
      const values = [...new Set(column.values as string[])].filter((v) => v !== "").sort();
      const options: (readonly [string, string])[] = [["", "any"], ...values.map((v) => [v, v] as const)];
      if ((column.values as string[]).includes(""))
        options.push([ANY_VALUE, "(not empty)"], [NO_VALUE, "(empty)"]);
      append(
        box,
        el(
          "label",
          { title: column.description },
          column.label,
          select(`filter-category-${i}`, options, (v) => {
            if (v === "") this.state.filters.categories.delete(column.key);
            else this.state.filters.categories.set(column.key, v);
            this.update();
          }),
        ),
      );
    });
    return box;
  }

  private renderHead(): void {
    clear(this.head);
    const t = this.state.table;
    this.head.appendChild(el("div", {}, t.image ? "" : t.features ? "features" : ""));
    const headers: [string, string, string][] = [
      ...FIXED_COLUMNS.map(([k, l, d]) => [k, l, d] as [string, string, string]),
      ...t.columns.map((c) => [c.key, c.label, c.description] as [string, string, string]),
    ];
    for (const [key, label, description] of headers) {
      const sorted = this.state.sort.key === key;
      const cell = el(
        "div",
        {
          role: "columnheader",
          "data-sort-key": key,
          title: `${description} (click to sort)`,
          "aria-sort": sorted ? (this.state.sort.direction === 1 ? "ascending" : "descending") : undefined,
        },
        label,
      );
      cell.addEventListener("click", () => {
        const direction = this.state.sort.key === key ? (-this.state.sort.direction as 1 | -1) : 1;
        this.state.sort = { key, direction };
        this.renderHead();
        this.update();
      });
      this.head.appendChild(cell);
    }
  }

  /** Applies the sort and filters; `redrawMap` false when the map itself changed them (its brush). */
  private update(redrawMap = true): void {
    this.state.update();
    this.body.style.height = `${this.state.view.length * ROW}px`;
    this.count.textContent = `${this.state.view.length} of ${this.state.table.size} samples`;
    this.renderRows();
    // The data map shows the samples that pass the filters.
    if (redrawMap && !this.mapView.hidden && this.mapView.dataset.built === "true") void this.drawMap();
    document.body.dataset.viewVersion = String(Number(document.body.dataset.viewVersion ?? "0") + 1);
  }

  private queueRows(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.renderRows(false);
    });
  }

  /** The rows in the page, by their place in the view (kept while scrolling, dropped when the view changes). */
  private rendered = new Map<number, HTMLElement>();

  /**
   * Renders only the rows in view (plus a few above and below). Scrolling keeps the rows still in
   * view and builds only the new ones; `rebuild` (after a sort, filter or tag) builds them all again.
   */
  private renderRows(rebuild = true): void {
    const view = this.state.view;
    const top = Math.max(0, this.tableView.scrollTop - this.head.offsetHeight);
    const height = this.tableView.clientHeight || 800;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(view.length, Math.ceil((top + height) / ROW) + 5);
    if (rebuild) {
      clear(this.body);
      this.rendered.clear();
    }
    for (const [index, row] of this.rendered) {
      if (index < first || index >= last) {
        row.remove();
        this.rendered.delete(index);
      }
    }
    for (let i = first; i < last; i++) {
      if (this.rendered.has(i)) continue;
      const row = this.row(view[i] as number, i);
      this.rendered.set(i, row);
      this.body.appendChild(row);
    }
  }

  private row(position: number, index: number): HTMLElement {
    const t = this.state.table;
    const row = el("div", {
      class: "row",
      role: "row",
      "data-position": position,
      "aria-selected": String(position === this.selected),
    });
    row.style.top = `${index * ROW}px`;
    row.style.height = `${ROW}px`;
    row.style.gridTemplateColumns = this.template;
    let sampleCell: HTMLElement;
    if (t.image) {
      sampleCell = el(
        "div",
        {},
        el("img", { src: this.source.imageUrl(position), alt: `sample ${position}`, loading: "lazy" }),
      );
    } else if (t.features && t.featureNames) {
      const values = t.features[position] ?? [];
      const text = values.map((v, i) => `${t.featureNames?.[i] ?? i}=${formatNumber(v)}`).join(" ");
      sampleCell = el("div", { title: text }, text);
    } else sampleCell = el("div");
    const tag = this.state.tagOf(position);
    append(
      row,
      sampleCell,
      el("div", {}, position),
      el("div", {}, t.sourceIndex[position]),
      el("div", { class: "label" }, t.classNames[t.label[position] as number] ?? ""),
      el("div", { class: "predicted" }, t.classNames[t.predicted[position] as number] ?? ""),
      el("div", { class: tag ? `tag tag-${tag.tag}` : "tag" }, this.state.tagText(position)),
    );
    for (const column of t.columns) {
      const value = column.values[position];
      append(
        row,
        el("div", {}, column.kind === "number" ? formatNumber(value as number | null) : String(value ?? "")),
      );
    }
    row.addEventListener("click", () => void this.open(position));
    return row;
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }

  /** Opens a sample in the sample view. */
  async open(position: number): Promise<void> {
    this.selected = position;
    for (const row of this.rendered.values())
      row.setAttribute("aria-selected", String(row.dataset.position === String(position)));
    const t = this.state.table;
    clear(this.sample);
    this.sample.dataset.position = String(position);
    const file = t.sourceFiles?.[position];
    append(
      this.sample,
      el("h2", {}, `Sample ${position} · source ${t.sourceIndex[position]}`),
      file ? el("p", { class: "file" }, file) : null,
    );
    if (t.image)
      append(this.sample, el("img", { src: this.source.imageUrl(position), alt: `sample ${position}` }));
    else if (t.features && t.featureNames) {
      const rows = (t.features[position] ?? []).map((v, i) =>
        el("tr", {}, el("th", {}, t.featureNames?.[i] ?? String(i)), el("td", {}, formatNumber(v))),
      );
      append(this.sample, el("table", { class: "features" }, ...rows));
    }
    const tag = this.state.tagOf(position);
    append(
      this.sample,
      el(
        "p",
        {},
        "label ",
        el("strong", { id: "sample-label" }, t.classNames[t.label[position] as number] ?? ""),
        " · tag ",
        el(
          "strong",
          { id: "sample-tag", class: tag ? `tag-${tag.tag}` : "" },
          this.state.tagText(position) || "none",
        ),
      ),
      el(
        "p",
        { class: "keys" },
        "m mislabelled · a ambiguous · o fine (clears) · 0–9 relabel to that class code",
      ),
    );
    if (t.runs.length > 0) {
      const rows = t.runs.map((run) =>
        el(
          "tr",
          {},
          el("td", {}, run.seed),
          el("td", {}, t.classNames[run.predicted[position] as number] ?? ""),
          el("td", { title: run.name }, run.name),
        ),
      );
      append(
        this.sample,
        el("h3", {}, "Predicted class per run"),
        el(
          "table",
          { id: "sample-runs" },
          el("tr", {}, el("th", {}, "seed"), el("th", {}, "predicted"), el("th", {}, "run")),
          ...rows,
        ),
      );
    }
    const scores = this.state.scoresOf(position);
    if (scores.length > 0) {
      append(
        this.sample,
        el("h3", {}, "Scores"),
        el(
          "table",
          { id: "sample-scores" },
          ...scores.map((s) =>
            el(
              "tr",
              { title: s.description },
              el("th", {}, s.label),
              el("td", {}, typeof s.value === "number" || s.value === null ? formatNumber(s.value) : s.value),
            ),
          ),
        ),
      );
    }
    const near = el("div", { id: "sample-neighbours" });
    append(
      this.sample,
      el(
        "h3",
        {
          title:
            "Euclidean distance between two samples in a hidden layer's embedding (PredictionDepth's saved probes) or else in the class probabilities the model gives them",
        },
        "Nearest neighbours",
      ),
      near,
    );
    const neighbours = this.showNeighbours(near, position);
    const curve = el("div", { id: "sample-curve" });
    append(this.sample, el("h3", {}, "Probability of its label over training"), curve);
    await this.showCurve(curve, position);
    await neighbours;
    if (this.selected !== position) return;
    this.sample.dataset.loaded = String(position);
  }

  /** The sample's nearest neighbours (in the space the server names) with their labels; a click opens one. */
  private async showNeighbours(target: HTMLElement, position: number): Promise<void> {
    const t = this.state.table;
    try {
      const found = await this.source.neighbours(position);
      if (this.selected !== position) return;
      if (!found) {
        target.textContent = this.source.readOnly
          ? "Neighbours are shown by `curricula explore` itself, not in the static copy."
          : "No run saved outputs of this subset.";
        return;
      }
      const items = found.neighbours.map((n) => {
        const item = el(
          "li",
          {
            class: "neighbour",
            "data-position": n.position,
            tabindex: 0,
            title: `sample ${n.position} · source ${n.sourceIndex} · distance ${n.distance}`,
          },
          t.image ? el("img", { src: this.source.imageUrl(n.position), alt: `sample ${n.position}` }) : null,
          el("span", { class: "neighbour-label" }, n.label),
          el(
            "span",
            { class: "neighbour-detail" },
            `#${n.position} · predicted ${n.predicted} · d ${formatNumber(n.distance)}`,
          ),
        );
        item.addEventListener("click", () => void this.open(n.position));
        return item;
      });
      append(
        target,
        el("p", { class: "keys neighbour-space", "data-kind": found.kind }, `in ${found.space}`),
        el("ol", {}, ...items),
      );
    } catch (error) {
      target.textContent = `Neighbours unavailable: ${(error as Error).message}`;
    }
  }

  private async showCurve(curve: HTMLElement, position: number): Promise<void> {
    try {
      const curves = await this.source.curves(position);
      if (this.selected !== position) return;
      const values = curves.flatMap((c) =>
        c.iterations.map((iteration, i) => ({
          iteration,
          probability: c.probability[i],
          seed: `seed ${c.seed}`,
        })),
      );
      this.curveResult?.finalize();
      this.curveResult = null;
      if (values.length === 0) {
        curve.textContent = "No run saved outputs of this subset.";
      } else {
        this.curveResult = await embed(
          curve,
          {
            $schema: "https://vega.github.io/schema/vega-lite/v6.json",
            width: 260,
            height: 160,
            data: { values },
            mark: { type: "line", point: true },
            encoding: {
              x: { field: "iteration", type: "quantitative", axis: { tickMinStep: 1 } },
              y: { field: "probability", type: "quantitative", scale: { domain: [0, 1] } },
              color: { field: "seed", type: "nominal" },
            },
          },
          { actions: false, renderer: "svg" },
        );
      }
    } catch (error) {
      curve.textContent = `Curves unavailable: ${(error as Error).message}`;
    }
  }

  private move(step: number): void {
    const view = this.state.view;
    if (view.length === 0) return;
    const at = view.indexOf(this.selected);
    const next = at < 0 ? 0 : Math.min(view.length - 1, Math.max(0, at + step));
    const target = Math.max(0, next * ROW - this.tableView.clientHeight / 2);
    if (
      next * ROW < this.tableView.scrollTop ||
      next * ROW > this.tableView.scrollTop + this.tableView.clientHeight - 2 * ROW
    )
      this.tableView.scrollTop = target;
    void this.open(view[next] as number);
  }

  private async tag(tag: ExploreTag["tag"], newLabel: string | null = null): Promise<void> {
    if (this.selected < 0) return;
    if (this.source.readOnly) {
      this.setStatus("read-only copy: tags are not saved");
      return;
    }
    const position = this.selected;
    const sourceIndex = this.state.table.sourceIndex[position] as number;
    this.setStatus("saving…");
    try {
      this.state.setTags(await this.source.saveTag({ sourceIndex, tag, newLabel }));
      this.setStatus(`saved: sample ${position} ${tag === "relabel" ? `relabel → ${newLabel}` : tag}`);
      this.renderRows();
      const shown = document.getElementById("sample-tag");
      if (shown && this.selected === position) {
        const current = this.state.tagOf(position);
        shown.textContent = this.state.tagText(position) || "none";
        shown.className = current ? `tag-${current.tag}` : "";
      }
      document.body.dataset.tagsSaved = String(Number(document.body.dataset.tagsSaved ?? "0") + 1);
    } catch (error) {
      this.setStatus(`not saved: ${(error as Error).message}`);
    }
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement | null;
    if (target && ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "ArrowDown" || key === "j") this.move(1);
    else if (key === "ArrowUp" || key === "k") this.move(-1);
    else if (key === "m") void this.tag("mislabelled");
    else if (key === "a") void this.tag("ambiguous");
    else if (key === "o") void this.tag("fine");
    else if (/^[0-9]$/.test(key)) {
      const name = this.state.table.classNames[Number(key)];
      if (name === undefined) {
        this.setStatus(`no class with code ${key}`);
        return;
      }
      void this.tag("relabel", name);
    } else return;
    event.preventDefault();
  }

  /** The data map: any two numeric columns (Cartography's variability × confidence first), click opens a sample. */
  private async renderMap(): Promise<void> {
    const t = this.state.table;
    if (this.mapView.dataset.built !== "true") {
      this.mapView.dataset.built = "true";
      const find = (suffix: string) => this.numberColumns.find((k) => k.endsWith(suffix));
      const x0 = find("/variability") ?? this.numberColumns[0] ?? "";
      const y0 = find("/confidence") ?? this.numberColumns.find((k) => k !== x0) ?? x0;
      const options = this.numberColumns.map((k) => [k, this.state.columns.get(k)?.label ?? k] as const);
      const xs = select("map-x", options, () => void this.drawMap());
      const ys = select("map-y", options, () => void this.drawMap());
      xs.value = x0;
      ys.value = y0;
      append(
        this.mapView,
        el(
          "p",
          {},
          el("label", {}, "x ", xs),
          " ",
          el("label", {}, "y ", ys),
          " — hover a point to see it, click to open it, drag a box to keep only its samples in the table",
        ),
        this.brushNote,
        el("div", { id: "map" }),
      );
      if (this.numberColumns.length === 0) this.mapView.appendChild(el("p", {}, "No score to draw."));
    }
    if (t.columns.length > 0) await this.drawMap();
  }

  private readonly brushNote = el("p", { id: "map-brush" });

  /** Keeps only the samples in the brushed box (null: all) in the table; the map keeps its points. */
  private setBrush(box: { x: number[]; y: number[] } | null): void {
    const xKey = (document.getElementById("map-x") as HTMLSelectElement | null)?.value ?? "";
    const yKey = (document.getElementById("map-y") as HTMLSelectElement | null)?.value ?? "";
    this.state.filters.brushed = box ? this.state.inBox(xKey, yKey, box.x, box.y) : null;
    this.update(false);
    clear(this.brushNote);
    if (box) {
      const button = el("button", { id: "map-brush-clear" }, "clear");
      button.addEventListener("click", () => void this.drawMap());
      append(
        this.brushNote,
        `${this.state.view.length} samples in the box, the table shows only them · `,
        button,
      );
    }
    this.brushNote.dataset.selected = String(box ? this.state.view.length : "");
  }

  private async drawMap(): Promise<void> {
    const t = this.state.table;
    const xKey = (document.getElementById("map-x") as HTMLSelectElement | null)?.value ?? "";
    const yKey = (document.getElementById("map-y") as HTMLSelectElement | null)?.value ?? "";
    const x = this.state.columns.get(xKey);
    const y = this.state.columns.get(yKey);
    const target = document.getElementById("map");
    if (!x || !y || !target) return;
    // A redrawn map has no brush: the table shows every sample passing the filters again.
    if (this.state.filters.brushed) this.setBrush(null);
    const values: { position: number; x: number; y: number; label: string }[] = [];
    for (const position of this.state.view) {
      const vx = x.values[position];
      const vy = y.values[position];
      if (typeof vx === "number" && typeof vy === "number")
        values.push({ position, x: vx, y: vy, label: t.classNames[t.label[position] as number] ?? "" });
    }
    this.mapResult?.finalize();
    this.mapResult = await embed(
      target,
      {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        width: 560,
        height: 420,
        data: { values },
        params: [{ name: "brush", select: { type: "interval", encodings: ["x", "y"] } }],
        mark: { type: "circle", size: 18, cursor: "pointer" },
        encoding: {
          // the points outside a brushed box fade
          opacity: { condition: { param: "brush", empty: true, value: 0.6 }, value: 0.1 },
          x: { field: "x", type: "quantitative", title: x.label },
          y: { field: "y", type: "quantitative", title: y.label },
          color: { field: "label", type: "nominal", title: "label" },
          tooltip: [
            { field: "position", type: "quantitative", format: "d" },
            { field: "label", type: "nominal" },
            { field: "x", type: "quantitative", title: x.label, format: ".4~g" },
            { field: "y", type: "quantitative", title: y.label, format: ".4~g" },
          ],
        },
      },
      { actions: false, renderer: "canvas" },
    );
    this.mapResult.view.addEventListener("click", (_event, item) => {
      const datum = (item as { datum?: { position?: number } } | null | undefined)?.datum;
      if (typeof datum?.position === "number") void this.open(datum.position);
    });
    // The brush: its box in data values ({} when cleared), applied to the table once per frame.
    let pending = false;
    this.mapResult.view.addSignalListener("brush", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        const box = this.mapResult?.view.signal("brush") as { x?: number[]; y?: number[] } | undefined;
        this.setBrush(box?.x && box.y ? { x: box.x, y: box.y } : null);
      });
    });
    target.dataset.points = String(values.length);
  }
}

async function start(): Promise<void> {
  const root = document.getElementById("app") as HTMLElement;
  const source = pickSource();
  try {
    const table = await source.table();
    const app = new App(new ExploreState(table), source);
    app.mount(root);
    (window as unknown as { explore: App }).explore = app;
  } catch (error) {
    clear(root);
    root.appendChild(
      el("p", { class: "error" }, `Could not load the experiment: ${(error as Error).message}`),
    );
  }
}

void start();
