// Copies the browser libraries that Ningyu serves itself from node_modules
// into public/vendor, which cargo-leptos copies into the site.
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const swagger = join(repo, "node_modules", "swagger-ui-dist");
const target = join(repo, "public", "vendor", "swagger-ui");
mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js", "LICENSE"]) {
  cpSync(join(swagger, file), join(target, file));
}
