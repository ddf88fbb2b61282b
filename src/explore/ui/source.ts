import type { ExploreTable, ExploreTag, SampleCurve, SampleNeighbours, StaticData } from "../types.js";

/** Where the page's data comes from: the local server, or the JSON a static copy embeds. */
export interface Source {
  readonly readOnly: boolean;
  table(): Promise<ExploreTable>;
  curves(position: number): Promise<SampleCurve[]>;
  imageUrl(position: number): string;
  /** Its nearest samples in the model's output space; null where not available (the static copy). */
  neighbours(position: number): Promise<SampleNeighbours | null>;
  /** Saves one tag; resolves with every tag as saved. */
  saveTag(tag: {
    sourceIndex: number;
    tag: ExploreTag["tag"];
    newLabel: string | null;
  }): Promise<ExploreTag[]>;
}

/** How many nearest neighbours the sample view lists. */
export const NEIGHBOURS = 8;

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `${url}: HTTP ${response.status}`);
  return body;
}

export function serverSource(): Source {
  return {
    readOnly: false,
    table: () => getJson<ExploreTable>("api/table"),
    curves: async (position) => (await getJson<{ curves: SampleCurve[] }>(`api/sample/${position}`)).curves,
    imageUrl: (position) => `api/image/${position}.png`,
    neighbours: (position) => getJson<SampleNeighbours | null>(`api/neighbours/${position}?k=${NEIGHBOURS}`),
    saveTag: async (tag) =>
      (
        await getJson<{ tags: ExploreTag[] }>("api/tags", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(tag),
        })
      ).tags,
  };
}

export function staticSource(data: StaticData): Source {
  return {
    readOnly: true,
    table: async () => data.table,
    curves: async (position) =>
      data.table.runs.map((run, r) => {
        const curves = data.curves[r];
        return {
          run: run.name,
          seed: run.seed,
          iterations: curves?.iterations ?? [],
          probability: (curves?.probabilities ?? []).map((p) => p[position] ?? Number.NaN),
        };
      }),
    imageUrl: (position) => data.images?.[position] ?? "",
    neighbours: async () => null,
    saveTag: async () => {
      throw new Error("this is a read-only copy: tags are saved only by `curricula explore` itself");
    },
  };
}

/** The static copy's embedded data when there is some, else the server. */
export function pickSource(): Source {
  const embedded = document.getElementById("explore-data");
  return embedded?.textContent
    ? staticSource(JSON.parse(embedded.textContent) as StaticData)
    : serverSource();
}
