import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDir } from "../../src/config/layout.js";
import { type ExploreData, loadExplore } from "../../src/explore/data.js";
import { type ExploreServer, filePathProblem, startExploreServer } from "../../src/explore/server.js";
import { writeExploreStatic } from "../../src/explore/static.js";
import type { ExploreTable, SampleCurve, SampleNeighbours, StaticData } from "../../src/explore/types.js";
import { readReviewTags, reviewTagsPath } from "../../src/results/review-tags.js";
import { bestIteration } from "../../src/results/run-folder.js";
import { readScoreRows } from "../../src/results/score-table.js";
import { loadNpy } from "../../src/util/npy.js";
import { digitsExperiment, HOSTILE, hostileData } from "./fixture.js";

/** One request with the path sent as written (no client-side normalisation of `..`). */
function get(
  base: string,
  path: string,
  options: { method?: string; body?: string; type?: string; host?: string } = {},
): Promise<{ status: number; type: string; body: Buffer }> {
  const url = new URL(base);
  return new Promise((done, fail) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? "GET",
        headers: {
          ...(options.type ? { "Content-Type": options.type } : {}),
          ...(options.host ? { Host: options.host } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done({
            status: res.statusCode ?? 0,
            type: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on("error", fail);
    req.end(options.body);
  });
}

const postTag = (base: string, tag: unknown, type = "application/json") =>
  get(base, "/api/tags", { method: "POST", body: JSON.stringify(tag), type });

let fixture: Awaited<ReturnType<typeof digitsExperiment>>;
let data: ExploreData;
let server: ExploreServer;
const outside = mkdtempSync(join(tmpdir(), "curricula-outside-"));

beforeAll(async () => {
  fixture = await digitsExperiment();
  data = await loadExplore(fixture.resultsDir, "default");
  server = await startExploreServer(data);
}, 120_000);

afterAll(async () => {
  await server?.close();
  rmSync(fixture.resultsDir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("explore server over two Digits runs and a CELoss score", () => {
  it("listens on the loopback address by default", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it("answers only requests addressed to this machine (a rebound DNS name is refused)", async () => {
    const port = new URL(server.url).port;
    expect((await get(server.url, "/api/tags", { host: `localhost:${port}` })).status).toBe(200);
    expect((await get(server.url, "/api/tags", { host: `127.0.0.1:${port}` })).status).toBe(200);
    const rebound = await get(server.url, "/api/table", { host: `attacker.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body.toString()).not.toContain("sourceIndex");
    expect(
      (await postTag(server.url, { sourceIndex: data.table.sourceIndex[0], tag: "fine" }, "application/json"))
        .status,
    ).toBe(200);
  });

  it("serves the page and its bundled front end", async () => {
    const page = await get(server.url, "/");
    expect(page.status).toBe(200);
    expect(page.body.toString()).toContain('<script src="/app.js"></script>');
    // the table is requested while the script loads
    expect(page.body.toString()).toContain(
      '<link rel="preload" href="/api/table" as="fetch" crossorigin="anonymous">',
    );
    const app = await get(server.url, "/app.js");
    expect(app.status).toBe(200);
    expect(app.type).toContain("javascript");
    expect(app.body.length).toBeGreaterThan(10_000);
  });

  it("/api/table: every train sample, both runs' predictions and the CELoss columns by position", async () => {
    const response = await get(server.url, "/api/table");
    const table = JSON.parse(response.body.toString()) as ExploreTable;
    const rows = readScoreRows(fixture.scoreCsv);
    expect(table.size).toBe(rows.index.length);
    expect(table.runs.map((r) => r.name)).toEqual([...fixture.runs].sort());
    expect(table.runs.map((r) => r.iterations)).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    const byPosition = (column: string) => {
      const out = new Array<number>(rows.index.length);
      rows.index.forEach((p, r) => {
        out[p] = rows.columns.get(column)?.[r] as number;
      });
      return out;
    };
    expect(table.columns.map((c) => c.label)).toEqual(["CELoss", "CELoss rank"]);
    expect(table.columns[0]?.values).toEqual(byPosition("mean"));
    expect(table.columns[1]?.values).toEqual(byPosition("ranks"));
    const sources = new Array<number>(rows.index.length);
    rows.index.forEach((p, r) => {
      sources[p] = rows.sourceIndex[r] as number;
    });
    expect(table.sourceIndex).toEqual(sources);
    expect(table.image).toEqual({ height: 8, width: 8 });
    const last = join(runDir(fixture.resultsDir, "default", fixture.runs[0] as string), "epoch_3");
    const logits = loadNpy(join(last, "train_outputs.npy")).data as Float32Array;
    const indices = loadNpy(join(last, "train_indices.npy")).data;
    const predicted = new Array<number>(table.size);
    for (let r = 0; r < indices.length; r++) {
      const row = Array.from(logits.subarray(r * 10, r * 10 + 10));
      predicted[indices[r] as number] = row.indexOf(Math.max(...row));
    }
    expect(table.runs.find((run) => run.name === fixture.runs[0])?.predicted).toEqual(predicted);
  });

  it("/api/sample/<position>: the softmax probability of its label at each epoch of each run", async () => {
    const position = 5;
    const response = await get(server.url, `/api/sample/${position}`);
    const { curves } = JSON.parse(response.body.toString()) as { curves: SampleCurve[] };
    expect(curves.map((c) => c.seed)).toEqual(["1", "2"]);
    const run = runDir(fixture.resultsDir, "default", fixture.runs[1] as string);
    const expected = [1, 2, 3].map((epoch) => {
      const dir = join(run, `epoch_${epoch}`);
      const logits = loadNpy(join(dir, "train_outputs.npy")).data as Float32Array;
      const indices = Array.from(loadNpy(join(dir, "train_indices.npy")).data);
      const targets = loadNpy(join(dir, "train_targets.npy")).data;
      const r = indices.indexOf(position);
      const row = Array.from(logits.subarray(r * 10, r * 10 + 10));
      const max = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
      return Math.exp((row[targets[r] as number] as number) - max) / sum;
    });
    const got = curves.find((c) => c.run === fixture.runs[1])?.probability ?? [];
    expect(got).toHaveLength(3);
    got.forEach((p, i) => {
      expect(p).toBeCloseTo(expected[i] as number, 4);
    });
    expect((await get(server.url, "/api/sample/99999")).status).toBe(404);
    expect((await get(server.url, "/api/sample/-1")).status).toBe(404);
  });

  it("/api/neighbours/<position>: the k nearest samples by the best iteration's softmax outputs, as brute force finds them", async () => {
    const run = runDir(fixture.resultsDir, "default", fixture.runs[0] as string);
    const best = bestIteration(run);
    const dir = join(run, `epoch_${best}`);
    const logits = loadNpy(join(dir, "train_outputs.npy")).data as Float32Array;
    const indices = loadNpy(join(dir, "train_indices.npy")).data;
    const c = data.table.classNames.length;
    const n = data.table.size;
    // softmax rows by position, in float64
    const rows: number[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      const z = Array.from(logits.subarray(r * c, (r + 1) * c));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      rows[indices[r] as number] = e.map((v) => v / sum);
    }
    const distance = (a: number, b: number) =>
      Math.sqrt(
        (rows[a] as number[]).reduce((s, v, j) => s + (v - ((rows[b] as number[])[j] as number)) ** 2, 0),
      );
    for (const position of [0, 17, n - 1]) {
      const response = await get(server.url, `/api/neighbours/${position}?k=6`);
      expect(response.status).toBe(200);
      const got = JSON.parse(response.body.toString()) as SampleNeighbours;
      expect(got.kind).toBe("output");
      expect(got.space).toBe(
        `the model's output space (softmax outputs of run ${fixture.runs[0]} at iteration ${best})`,
      );
      const reference = Array.from({ length: n }, (_, p) => p)
        .filter((p) => p !== position)
        .map((p) => ({ p, d: distance(position, p) }))
        .sort((a, b) => a.d - b.d || a.p - b.p)
        .slice(0, 6);
      expect(got.neighbours).toHaveLength(6);
      got.neighbours.forEach((neighbour, i) => {
        // the same distances in order (positions may swap only between equal distances)
        expect(neighbour.distance).toBeCloseTo(reference[i]?.d as number, 4);
        expect(distance(position, neighbour.position)).toBeCloseTo(neighbour.distance, 4);
        expect(neighbour.position).not.toBe(position);
        expect(neighbour.sourceIndex).toBe(data.table.sourceIndex[neighbour.position]);
        expect(neighbour.label).toBe(data.table.classNames[data.table.label[neighbour.position] as number]);
      });
    }
    expect((await get(server.url, "/api/neighbours/0?k=0")).status).toBe(400);
    expect((await get(server.url, "/api/neighbours/0?k=x")).status).toBe(400);
    expect((await get(server.url, `/api/neighbours/${n}`)).status).toBe(404);
  });

  it("--subset dev: the dev samples with the runs' dev outputs, without the train scores", async () => {
    const dev = await loadExplore(fixture.resultsDir, "default", { subset: "dev" });
    expect(dev.subset?.name).toBe("dev");
    expect(dev.table.size).toBe(dev.subset?.size);
    expect(dev.table.size).not.toBe(data.table.size);
    expect(dev.table.runs.map((r) => r.predicted.length)).toEqual([dev.table.size, dev.table.size]);
    expect(dev.table.columns).toEqual([]);
  });

  it("/api/image/<position>.png: the sample as a PNG", async () => {
    const image = await get(server.url, "/api/image/0.png");
    expect(image.status).toBe(200);
    expect(image.type).toBe("image/png");
    expect([...image.body.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect((await get(server.url, `/api/image/${data.table.size}.png`)).status).toBe(404);
  });

  it("/files/ serves files inside the experiment's folder", async () => {
    const file = await get(server.url, "/files/curriculum/CELoss/CELoss.csv");
    expect(file.status).toBe(200);
    expect(file.body.toString()).toBe(readFileSync(fixture.scoreCsv, "utf8"));
  });

  it("/files/ refuses '..', absolute paths and links that lead out of the folder", async () => {
    const secret = join(outside, "secret.txt");
    writeFileSync(secret, "SECRET");
    symlinkSync(outside, join(fixture.resultsDir, "default", "escape"));
    const attempts = [
      "/files/..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
      `/files/${encodeURIComponent(secret)}`,
      "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/files/../../../../etc/passwd",
      "/files/training/..%2F..%2F..%2F..%2F..%2Fetc%2Fhostname",
      "/files/escape/secret.txt",
      "/files/..%5C..%5Cetc%5Cpasswd",
    ];
    for (const path of attempts) {
      const response = await get(server.url, path);
      expect([403, 404], path).toContain(response.status);
      expect(response.body.toString(), path).not.toContain("SECRET");
      expect(response.body.toString(), path).not.toContain("root:");
    }
    expect((await get(server.url, attempts[0] as string)).status).toBe(403);
    expect((await get(server.url, attempts[1] as string)).status).toBe(403);
    expect(filePathProblem("../x")).toContain("..");
    expect(filePathProblem("/etc/passwd")).toContain("absolute");
    expect(filePathProblem("a/b.csv")).toBeNull();
  });

  it("POST /api/tags writes review/tags.csv at once: the last tag of a sample wins and fine clears it", async () => {
    const [a, b, c] = data.table.sourceIndex;
    const path = reviewTagsPath(fixture.resultsDir, "default");
    expect((await postTag(server.url, { sourceIndex: a, tag: "mislabelled", newLabel: null })).status).toBe(
      200,
    );
    expect(readReviewTags(path).map((t) => [t.sourceIndex, t.tag])).toEqual([[a, "mislabelled"]]);
    await postTag(server.url, { sourceIndex: b, tag: "ambiguous", newLabel: null });
    await postTag(server.url, { sourceIndex: c, tag: "relabel", newLabel: "7" });
    const saved = await postTag(server.url, { sourceIndex: b, tag: "fine", newLabel: null });
    const { tags } = JSON.parse(saved.body.toString()) as { tags: { sourceIndex: number; tag: string }[] };
    expect(tags.map((t) => [t.sourceIndex, t.tag])).toEqual(
      [
        [a, "mislabelled"],
        [c, "relabel"],
      ].sort((x, y) => (x[0] as number) - (y[0] as number)),
    );
    expect(readReviewTags(path).find((t) => t.sourceIndex === c)?.newLabel).toBe("7");
    const table = JSON.parse((await get(server.url, "/api/table")).body.toString()) as ExploreTable;
    expect(table.tags).toEqual(readReviewTags(path));
  });

  it("refuses a tag for an unknown sample, an unknown tag or class, and a body that is not JSON", async () => {
    const source = data.table.sourceIndex[0];
    const refused = [
      await postTag(server.url, { sourceIndex: 123456, tag: "mislabelled" }),
      await postTag(server.url, { sourceIndex: source, tag: "wrong" }),
      await postTag(server.url, { sourceIndex: source, tag: "relabel", newLabel: "eleven" }),
    ];
    expect(refused.map((r) => r.status)).toEqual([400, 400, 400]);
    expect(JSON.parse(refused[2]?.body.toString() ?? "{}").error).toContain("newLabel");
    expect((await postTag(server.url, { sourceIndex: source, tag: "fine" }, "text/plain")).status).toBe(415);
    expect((await get(server.url, "/api/tags", { method: "DELETE" })).status).toBe(405);
  });

  it("--static writes one self-contained page: the bundle inlined, every image and curve embedded, tags read-only", () => {
    const out = join(outside, "explore.html");
    writeExploreStatic(data, out);
    const page = readFileSync(out, "utf8");
    expect(page).not.toMatch(/<script[^>]*\bsrc=/);
    const json = /<script id="explore-data" type="application\/json">([\s\S]*?)<\/script>/.exec(page)?.[1];
    const embedded = JSON.parse(json ?? "null") as StaticData;
    expect(embedded.table.readOnly).toBe(true);
    expect(embedded.table.size).toBe(data.table.size);
    expect(embedded.images).toHaveLength(data.table.size);
    expect(embedded.images?.[0]).toMatch(/^data:image\/png;base64,/);
    expect(embedded.curves.map((c) => c.probabilities.length)).toEqual([3, 3]);
    expect(embedded.table.tags).toEqual(readReviewTags(reviewTagsPath(fixture.resultsDir, "default")));
  });
});

describe("explore: text from the results is never markup in the static copy", () => {
  it("embeds class names that close a script element without ending the data element", () => {
    const hostile = hostileData();
    const out = join(outside, "hostile.html");
    writeExploreStatic(hostile, out);
    const page = readFileSync(out, "utf8");
    const json = /<script id="explore-data" type="application\/json">([\s\S]*?)<\/script>/.exec(page)?.[1];
    expect((JSON.parse(json ?? "null") as StaticData).table.classNames).toEqual([
      HOSTILE.script,
      HOSTILE.img,
      HOSTILE.close,
    ]);
    expect(page).not.toContain(HOSTILE.script);
    expect(page).not.toContain("<img src=x");
    rmSync(hostile.resultsDir, { recursive: true, force: true });
  });
});
