// Bundles js/src/index.ts into the Python package (src/wk_widget/static/widget.js).
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: ["src/index.ts"],
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: process.env.WK_DEV !== "1",
  sourcemap: false,
  outfile: "../src/wk_widget/static/widget.js",
  logLevel: "warning",
});
