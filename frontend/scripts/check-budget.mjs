// Fails the build when the production JavaScript is over budget (gzipped, like it travels).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 150 * 1024;
const assets = join(import.meta.dirname, "..", "dist", "assets");
const files = readdirSync(assets).filter((name) => name.endsWith(".js"));
const total = files.reduce((sum, name) => sum + gzipSync(readFileSync(join(assets, name)), { level: 9 }).length, 0);
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
console.log(`production JS: ${kib(total)} gzipped in ${files.length} file(s); budget ${kib(BUDGET_BYTES)}`);
if (files.length === 0 || total > BUDGET_BYTES) {
  console.error(files.length === 0 ? "no JavaScript found in dist/assets" : "over the JavaScript budget");
  process.exit(1);
}
