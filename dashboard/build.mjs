// Bundles src/ (and uPlot from node_modules) into dist/: index.html plus assets
// named by content hash. Same package-lock.json, same sources -> same bytes.
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename } from "node:path";

const out = "dist";
await rm(out, { recursive: true, force: true });
await mkdir(`${out}/assets`, { recursive: true });

const result = await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  outdir: `${out}/assets`,
  entryNames: "[name]-[hash]",
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((p) => p.endsWith(".js"));
const css = outputs.find((p) => p.endsWith(".css"));
const page = (await readFile("src/index.html", "utf8"))
  .replace("%JS%", `/assets/${js}`)
  .replace("%CSS%", `/assets/${css}`);
await writeFile(`${out}/index.html`, page);
console.log(`dashboard built: ${out}/index.html, ${outputs.join(", ")}`);
