// Finds libtorch for the native engine, in this order (as Rust's tch does):
//   1. LIBTORCH=<dir> (an unpacked libtorch: <dir>/include, <dir>/lib), or LIBTORCH_INCLUDE + LIBTORCH_LIB;
//      LIBTORCH_CXX11_ABI=0 for a pre-cxx11-ABI build (default 1);
//   2. Debian's libtorch-dev (headers under /usr/include/torch, libraries in /usr/lib/<triplet>);
//   3. the libtorch inside a Python `torch` installation (PYTHON, else python3, else /usr/bin/python3),
//      so a CUDA build of PyTorch gives a CUDA engine; LIBTORCH_USE_PYTORCH=1 asks Python before Debian.
// `node find-libtorch.mjs` prints what it found as JSON; `--gyp <key>` prints one binding.gyp list.
// The result can be passed in CURRICULA_LIBTORCH (JSON) so that node-gyp does not search twice.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const INSTALL_HINT =
  "install Debian's libtorch-dev and libopenblas0-pthread (apt-get install libtorch-dev libopenblas0-pthread), " +
  "or point LIBTORCH at an unpacked libtorch (or LIBTORCH_INCLUDE and LIBTORCH_LIB at its include and lib folders), " +
  "or install PyTorch for python3 (its bundled libtorch is used; a CUDA build gives a CUDA engine)";

const API_HEADER = join("torch", "csrc", "api", "include", "torch", "torch.h");

function libraryFlags(libDir) {
  const has = (name) => existsSync(join(libDir, `lib${name}.so`));
  const names = ["torch", "torch_cpu", "c10"];
  // A CUDA build splits its kernels into these; linking them without --as-needed keeps them loaded,
  // otherwise the linker drops them (no symbol of theirs is referenced) and CUDA looks absent.
  for (const cuda of ["torch_cuda", "c10_cuda", "torch_cuda_cpp", "torch_cuda_cu"])
    if (has(cuda)) names.push(cuda);
  return {
    cuda: has("torch_cuda") || has("torch_cuda_cpp"),
    libraries: [`-L${libDir}`, "-Wl,--no-as-needed", ...names.map((n) => `-l${n}`), "-Wl,--as-needed"],
  };
}

function fromDirs(source, includeDir, libDir, cxx11abi) {
  if (!existsSync(join(includeDir, API_HEADER))) {
    throw new Error(`${source}: ${join(includeDir, API_HEADER)} does not exist`);
  }
  if (!existsSync(join(libDir, "libtorch.so")) && !existsSync(join(libDir, "libtorch_cpu.so"))) {
    throw new Error(`${source}: no libtorch.so in ${libDir}`);
  }
  const { cuda, libraries } = libraryFlags(libDir);
  const system = includeDir === "/usr/include";
  return {
    source,
    includeDirs: [...(system ? [] : [includeDir]), join(includeDir, "torch", "csrc", "api", "include")],
    libDir,
    libraries,
    rpath: system ? [] : [libDir],
    cxx11abi,
    cuda,
  };
}

function fromEnv(env) {
  const abi = env.LIBTORCH_CXX11_ABI === "0" ? 0 : 1;
  if (env.LIBTORCH_INCLUDE || env.LIBTORCH_LIB) {
    if (!env.LIBTORCH_INCLUDE || !env.LIBTORCH_LIB)
      throw new Error("set both LIBTORCH_INCLUDE and LIBTORCH_LIB");
    return fromDirs("LIBTORCH_INCLUDE/LIBTORCH_LIB", env.LIBTORCH_INCLUDE, env.LIBTORCH_LIB, abi);
  }
  if (env.LIBTORCH)
    return fromDirs(
      `LIBTORCH=${env.LIBTORCH}`,
      join(env.LIBTORCH, "include"),
      join(env.LIBTORCH, "lib"),
      abi,
    );
  return null;
}

function fromDebian() {
  if (!existsSync(join("/usr/include", API_HEADER))) return null;
  const candidates = ["/usr/lib"];
  if (existsSync("/usr/lib")) {
    for (const d of readdirSync("/usr/lib")) if (/-linux-gnu/.test(d)) candidates.push(join("/usr/lib", d));
  }
  const libDir = candidates.find((d) => existsSync(join(d, "libtorch.so")));
  if (!libDir) return null;
  return fromDirs("Debian libtorch-dev", "/usr/include", libDir, 1);
}

const PYTHON_PROBE = [
  "import json, os, torch",
  "d = os.path.dirname(torch.__file__)",
  "print(json.dumps({'dir': d, 'abi': int(torch.compiled_with_cxx11_abi()), 'cuda': torch.version.cuda}))",
].join("\n");

function fromPython(env) {
  const tried = [];
  for (const python of [env.PYTHON, "python3", "/usr/bin/python3"].filter(Boolean)) {
    let probe;
    try {
      probe = JSON.parse(
        execFileSync(python, ["-c", PYTHON_PROBE], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
      );
    } catch {
      tried.push(python);
      continue;
    }
    const include = join(probe.dir, "include");
    // Debian's python3-torch uses the system libtorch; a wheel carries include/ and lib/ inside.
    const includeDir = existsSync(join(include, API_HEADER)) ? include : "/usr/include";
    try {
      return fromDirs(
        `python torch (${python}: ${probe.dir})`,
        includeDir,
        join(probe.dir, "lib"),
        probe.abi,
      );
    } catch (error) {
      tried.push(`${python} (${error.message})`);
    }
  }
  return null;
}

/** What to compile and link against; throws an Error whose message says what to install. */
export function findLibtorch(env = process.env) {
  if (env.CURRICULA_LIBTORCH) return JSON.parse(env.CURRICULA_LIBTORCH);
  const pythonFirst = env.LIBTORCH_USE_PYTORCH === "1";
  const found =
    fromEnv(env) ??
    (pythonFirst ? fromPython(env) : fromDebian()) ??
    (pythonFirst ? fromDebian() : fromPython(env));
  if (!found) throw new Error(`libtorch not found: ${INSTALL_HINT}`);
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = findLibtorch();
  const key = process.argv[2] === "--gyp" ? process.argv[3] : null;
  if (key === "include_dirs") console.log(found.includeDirs.join(" "));
  else if (key === "libraries") console.log(found.libraries.join(" "));
  else if (key === "ldflags") console.log(found.rpath.map((d) => `-Wl,-rpath,${d}`).join(" "));
  else if (key === "abi") console.log(String(found.cxx11abi));
  else console.log(JSON.stringify(found, null, 2));
}
