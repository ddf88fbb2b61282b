import { createReadStream, existsSync, realpathSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, isAbsolute, relative, resolve } from "node:path";
import { experimentDir } from "../config/layout.js";
import { addReviewTag, type ReviewTag, reviewTagsPath } from "../results/review-tags.js";
import { type ExploreData, sampleCurves, sampleImage, sampleNeighbours, savedTags } from "./data.js";
import { explorePage, readBundle } from "./page.js";
import type { ExploreTable } from "./types.js";

/**
 * The explorer's local web server (node:http): the page, its bundled front end and JSON endpoints
 * over one experiment's results, loopback only by default.
 *
 *   GET  /                        the page
 *   GET  /app.js                  the bundled front end
 *   GET  /api/table               every sample of the subset, its labels, predictions, scores, tags
 *   GET  /api/sample/<position>   one sample's curves (probability of its label per iteration and run)
 *   GET  /api/neighbours/<position>?k=8  its k (1–50) nearest samples, in a PredictionDepth probe's saved embedding
 *                                 else the model's output space, which `space` names (null without either)
 *   GET  /api/image/<position>.png  one sample as an image (image datasets)
 *   GET  /api/tags                the review tags
 *   POST /api/tags                one tag {sourceIndex, tag, newLabel}: written to review/tags.csv at once
 *   GET  /files/<path>            a file of the experiment's results folder, never one outside it
 */

export interface ExploreServerOptions {
  /** 0: any free port. */
  port?: number;
  /** 127.0.0.1 by default: only this machine reaches it. */
  host?: string;
  /** The bundled front end (dist/explore/app.js by default). */
  bundlePath?: string;
}

export interface ExploreServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".csv": "text/csv; charset=utf-8",
  ".yaml": "text/plain; charset=utf-8",
  ".yml": "text/plain; charset=utf-8",
  ".log": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".html": "text/plain; charset=utf-8",
};

const TAGS = new Set(["mislabelled", "ambiguous", "fine", "relabel"]);

/** Why a requested file path is refused (climbs out, absolute, odd characters), or null when it may be served. */
export function filePathProblem(path: string): string | null {
  if (path === "") return "no path";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\\]/.test(path)) return "control characters or backslashes";
  if (isAbsolute(path) || path.startsWith("/")) return "an absolute path";
  if (path.split("/").some((part) => part === ".." || part === ".")) return "'.' or '..' in the path";
  return null;
}

/** The real path of `path` inside `root`, or null when it is missing or leads outside (a symbolic link). */
function resolveInside(root: string, path: string): string | null {
  const target = resolve(root, path);
  if (!existsSync(target)) return null;
  const real = realpathSync(target);
  const rel = relative(realpathSync(root), real);
  if (rel.startsWith("..") || isAbsolute(rel)) return null;
  return statSync(real).isFile() ? real : null;
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json", JSON.stringify(value));
}

function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        fail(new Error(`request body over ${limit} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
    req.on("error", fail);
  });
}

/** Checks a posted tag against the explored samples and classes; the tag, or the reason it is refused. */
export function parseTag(body: unknown, table: ExploreTable, now: Date): ReviewTag | string {
  if (!body || typeof body !== "object") return "expected a JSON object {sourceIndex, tag, newLabel}";
  const { sourceIndex, tag, newLabel } = body as Record<string, unknown>;
  if (typeof sourceIndex !== "number" || !table.sourceIndex.includes(sourceIndex))
    return `sourceIndex: expected the source index of an explored sample, got ${JSON.stringify(sourceIndex)}`;
  if (typeof tag !== "string" || !TAGS.has(tag))
    return `tag: expected one of ${[...TAGS].join(", ")}, got ${JSON.stringify(tag)}`;
  if (tag === "relabel" && (typeof newLabel !== "string" || !table.classNames.includes(newLabel)))
    return `newLabel: expected one of the classes (${table.classNames.join(", ")}), got ${JSON.stringify(newLabel)}`;
  return {
    sourceIndex,
    tag: tag as ReviewTag["tag"],
    newLabel: tag === "relabel" ? (newLabel as string) : null,
    time: now.toISOString(),
  };
}

/** The position in a path segment (`12` or `12.png`), or null when it names no sample. */
function positionOf(text: string, size: number): number | null {
  if (!/^\d+$/.test(text)) return null;
  const position = Number(text);
  return position < size ? position : null;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Whether `host` is a loopback address (the default), whose server answers only loopback names. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Handles one request. `loopbackOnly`: requests whose Host header names anything but this machine
 * are refused, so a web page whose name resolves to 127.0.0.1 (DNS rebinding) cannot read the
 * results or write tags through the visitor's browser.
 */
export function exploreHandler(data: ExploreData, bundle: string, loopbackOnly = true) {
  const root = experimentDir(data.resultsDir, data.experiment);
  const tagsFile = reviewTagsPath(data.resultsDir, data.experiment);
  const page = explorePage({
    title: `curricula explore · ${data.experiment}`,
    scriptUrl: "/app.js",
    preload: "/api/table",
  });
  // The table does not change while the server runs, its tags do: its JSON is made once, the tags
  // added to it at each request.
  const tableJson = JSON.stringify({ ...data.table, tags: undefined });
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    if (loopbackOnly) {
      const name = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
      if (!LOOPBACK_NAMES.has(name) && !isLoopback(name)) {
        return json(res, 403, { error: `refused: Host '${name}' is not this machine` });
      }
    }
    try {
      if (req.method === "POST" && path === "/api/tags") {
        // JSON only: a cross-site form cannot post it without a preflight this server never answers.
        if (!(req.headers["content-type"] ?? "").startsWith("application/json")) {
          return json(res, 415, { error: "expected Content-Type: application/json" });
        }
        let body: unknown;
        try {
          body = JSON.parse(await readBody(req));
        } catch (error) {
          return json(res, 400, { error: `invalid JSON: ${(error as Error).message}` });
        }
        const tag = parseTag(body, data.table, new Date());
        if (typeof tag === "string") return json(res, 400, { error: tag });
        return json(res, 200, { tags: await addReviewTag(tagsFile, tag) });
      }
      if (req.method !== "GET" && req.method !== "HEAD")
        return json(res, 405, { error: "method not allowed" });
      if (path === "/" || path === "/index.html") return send(res, 200, "text/html; charset=utf-8", page);
      if (path === "/favicon.ico") return void res.writeHead(204).end();
      if (path === "/app.js") return send(res, 200, "text/javascript; charset=utf-8", bundle);
      if (path === "/api/table") {
        const tags = JSON.stringify(savedTags(data.resultsDir, data.experiment));
        return send(res, 200, "application/json", `${tableJson.slice(0, -1)},"tags":${tags}}`);
      }
      if (path === "/api/tags") return json(res, 200, { tags: savedTags(data.resultsDir, data.experiment) });
      const sample = /^\/api\/sample\/([^/]+)$/.exec(path);
      if (sample) {
        const position = positionOf(sample[1] as string, data.table.size);
        if (position === null) return json(res, 404, { error: `no sample ${sample[1]}` });
        return json(res, 200, { position, curves: sampleCurves(data, position) });
      }
      const near = /^\/api\/neighbours\/([^/]+)$/.exec(path);
      if (near) {
        const position = positionOf(near[1] as string, data.table.size);
        if (position === null) return json(res, 404, { error: `no sample ${near[1]}` });
        const kText = url.searchParams.get("k") ?? "8";
        const k = /^\d+$/.test(kText) ? Number(kText) : Number.NaN;
        if (!(k >= 1 && k <= 50))
          return json(res, 400, { error: `k: expected an integer 1–50, got '${kText}'` });
        // null: no saved probe embedding and no run's outputs of the subset, so no space to measure in
        return json(res, 200, sampleNeighbours(data, position, k));
      }
      const image = /^\/api\/image\/(\d+)\.png$/.exec(path);
      if (image) {
        const position = positionOf(image[1] as string, data.table.size);
        const png = position === null ? null : sampleImage(data, position);
        if (!png) return json(res, 404, { error: `no image of sample ${image[1]}` });
        res.writeHead(200, { "Content-Type": "image/png", "Cache-Control": "max-age=3600" });
        return void res.end(png);
      }
      if (path.startsWith("/files/")) {
        let relativePath: string;
        try {
          relativePath = decodeURIComponent(path.slice("/files/".length));
        } catch {
          return json(res, 400, { error: "malformed path" });
        }
        const problem = filePathProblem(relativePath);
        if (problem) return json(res, 403, { error: `refused: ${problem}` });
        const file = resolveInside(root, relativePath);
        if (!file) return json(res, 404, { error: `no file ${relativePath} in the experiment's folder` });
        res.writeHead(200, {
          "Content-Type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
          "X-Content-Type-Options": "nosniff",
          // A file of the results (an SVG plot) is shown, never run as part of this page.
          "Content-Security-Policy": "sandbox",
        });
        createReadStream(file).pipe(res);
        return;
      }
      json(res, 404, { error: `no route ${path}` });
    } catch (error) {
      json(res, 500, { error: (error as Error).message });
    }
  };
}

/** Starts the server; resolves once it listens, with its URL. */
export function startExploreServer(
  data: ExploreData,
  options: ExploreServerOptions = {},
): Promise<ExploreServer> {
  const bundle = readBundle(options.bundlePath);
  const host = options.host ?? "127.0.0.1";
  const handler = exploreHandler(data, bundle, isLoopback(host));
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", fail);
      const address = server.address() as AddressInfo;
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      done({
        url: `http://${shown}:${address.port}/`,
        server,
        close: () =>
          new Promise<void>((closed) => {
            server.closeAllConnections();
            server.close(() => closed());
          }),
      });
    });
  });
}
