// Copies the browser libraries that Ningyu serves itself from node_modules
// into public/vendor, which cargo-leptos copies into the site. Each library
// keeps its licence file beside it.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");

// [package in node_modules, folder under public/vendor, files or folders to copy]
const libraries = [
  ["swagger-ui-dist", "swagger-ui", ["swagger-ui.css", "swagger-ui-bundle.js", "LICENSE"]],
  // The map view loads these two only when it opens (app/src/components/map.rs).
  ["leaflet", "leaflet", ["dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE"]],
  [
    "leaflet.markercluster",
    "leaflet.markercluster",
    [
      "dist/leaflet.markercluster.js",
      "dist/MarkerCluster.css",
      "dist/MarkerCluster.Default.css",
      "MIT-LICENCE.txt",
    ],
  ],
];

for (const [name, folder, files] of libraries) {
  const source = join(repo, "node_modules", name);
  const target = join(repo, "public", "vendor", folder);
  mkdirSync(target, { recursive: true });
  for (const file of files) {
    // dist/leaflet.js becomes leaflet.js, and dist/images stays a folder.
    const copied = file.startsWith("dist/") ? file.slice("dist/".length) : file;
    cpSync(join(source, file), join(target, copied), { recursive: true });
  }
}
