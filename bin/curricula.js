#!/usr/bin/env node
import { existsSync } from "node:fs";

// The package ships dist/ (compiled JavaScript); a clone builds it on `npm ci` / `npm install`.
const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    "curricula: dist/ is missing (this is a source checkout that was not built); run `npm ci` or `npm run build`\n",
  );
  process.exit(1);
}
await import(main.href);
