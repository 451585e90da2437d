// Starts the Ningyu server that most specs share and passes its address to
// them in NINGYU_BASE_URL.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { startNingyu } from "./server";

export default async function globalSetup(): Promise<void> {
  const ningyu = await startNingyu();
  process.env.NINGYU_BASE_URL = ningyu.baseUrl;
  writeFileSync(join(tmpdir(), "ningyu-e2e.pid"), String(ningyu.process.pid));
}
