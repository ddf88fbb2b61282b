// `npm run build:torch`: builds the libtorch engine (native/torch/build/Release/curricula_torch.node)
// with node-gyp, then loads it once to prove it works. Never run by `npm ci`.
// JOBS=<n> sets the compile jobs (default 2); a failure says what to install.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findLibtorch, INSTALL_HINT } from "./find-libtorch.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const fail = (message) => {
  console.error(`build:torch: ${message}`);
  process.exit(1);
};

// What the build needs besides libtorch, checked first so that a failure names its real cause.
const root = join(here, "..", "..");
try {
  createRequire(join(root, "package.json")).resolve("node-addon-api");
} catch {
  fail(
    `node-addon-api is missing (a dependency of curricula): run 'npm install' in ${root}, then this again`,
  );
}
const missingTools = ["g++", "make"].filter(
  (tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).error,
);
if (missingTools.length > 0) {
  fail(
    `no ${missingTools.join(" and ")} on PATH: the addon is compiled C++17 (Debian: apt-get install g++ make)`,
  );
}

let found;
try {
  found = findLibtorch();
} catch (error) {
  fail(error.message.includes(INSTALL_HINT) ? error.message : `${error.message}; ${INSTALL_HINT}`);
}
console.log(
  `build:torch: libtorch from ${found.source} (lib ${found.libDir}, CUDA libraries: ${found.cuda ? "yes" : "no"})`,
);

// npm sets npm_config_node_gyp for scripts; otherwise use the node-gyp bundled with npm, or PATH's.
const npmDir = process.env.npm_execpath ? join(dirname(process.env.npm_execpath), "..") : null;
const gypCandidates = [
  process.env.npm_config_node_gyp,
  npmDir && join(npmDir, "node_modules", "node-gyp", "bin", "node-gyp.js"),
  join(
    dirname(process.execPath),
    "..",
    "lib",
    "node_modules",
    "npm",
    "node_modules",
    "node-gyp",
    "bin",
    "node-gyp.js",
  ),
].filter((p) => p && existsSync(p));
const gyp = gypCandidates[0] ? [process.execPath, gypCandidates[0]] : ["node-gyp"];

// Node's own headers when they are installed beside it (no download); else node-gyp fetches them.
const nodeDir = join(dirname(process.execPath), "..");
const nodeDirArg = existsSync(join(nodeDir, "include", "node", "node_api.h")) ? [`--nodedir=${nodeDir}`] : [];
const nodeVersion = process.versions.node;
const cachedHeaders = [
  join(
    process.env.npm_config_devdir ?? join(homedir(), ".cache", "node-gyp"),
    nodeVersion,
    "include",
    "node",
    "node_api.h",
  ),
  join(homedir(), ".node-gyp", nodeVersion, "include", "node", "node_api.h"),
].some((p) => existsSync(p));
const headersNote =
  nodeDirArg.length > 0 || cachedHeaders
    ? ""
    : `; Node's headers are not installed beside ${process.execPath} nor cached, so node-gyp downloads them (needs the network): install them (Debian: apt-get install libnode-dev) or run 'npx node-gyp install' once with the network`;
const jobs = process.env.JOBS ?? "2";
const args = [...gyp.slice(1), "rebuild", `--jobs=${jobs}`, ...nodeDirArg];
const env = { ...process.env, CURRICULA_LIBTORCH: JSON.stringify(found) };
const result = spawnSync(gyp[0], args, { cwd: here, stdio: "inherit", env });
if (result.error)
  fail(
    `could not run node-gyp (${result.error.message}); it comes with npm: run this through 'npm run build:torch'`,
  );
if (result.status !== 0) {
  fail(
    `compiling against ${found.source} (headers in ${found.includeDirs.join(", ")}) failed (see above)${headersNote}`,
  );
}

const addon = join(here, "build", "Release", "curricula_torch.node");
try {
  const info = execFileSync(
    process.execPath,
    ["-e", `console.log(JSON.stringify(require(${JSON.stringify(addon)}).info()))`],
    { encoding: "utf8" },
  );
  const { version, cuda, cudaDevices } = JSON.parse(info);
  console.log(
    `build:torch: built ${addon}: libtorch ${version}, CUDA ${cuda ? `available (${cudaDevices} device(s))` : "not available"}`,
  );
} catch (error) {
  fail(
    `built ${addon} but it does not load (${error.message.split("\n")[0]}); are libtorch's libraries on the loader path (LD_LIBRARY_PATH)?`,
  );
}
