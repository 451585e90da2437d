import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default async function globalTeardown(): Promise<void> {
  const pidFile = join(tmpdir(), "ningyu-e2e.pid");
  try {
    process.kill(Number(readFileSync(pidFile, "utf8")), "SIGTERM");
  } catch {
    // Already stopped.
  }
  rmSync(pidFile, { force: true });
}
