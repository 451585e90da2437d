// Starts the real Ningyu server on a free port with a fresh SQLite database,
// the demo data and the stand-in portal, and waits until it is ready.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(__dirname, "..");

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error("no port"));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

async function waitUntilReady(url: string, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
      lastError = new Error(`status ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Ningyu did not become ready at ${url}: ${lastError}`);
}

export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const portalPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "ningyu-e2e-"));
  const binary = process.env.NINGYU_BIN ?? join(repo, "target", "debug", "ningyu");
  const server = spawn(binary, ["serve"], {
    cwd: repo,
    env: {
      ...process.env,
      NINGYU_LISTEN: `127.0.0.1:${port}`,
      NINGYU_DATA_DIR: dataDir,
      NINGYU_DEMO_DATA: "true",
      NINGYU_SITE_ROOT: join(repo, "target", "site"),
      NINGYU_LOG: "warn",
      NINGYU_DEV_PORTAL: "on",
      NINGYU_DEV_PORTAL_LISTEN: `127.0.0.1:${portalPort}`,
      DATABASE_URL: "",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  server.on("exit", (code) => {
    if (code !== null && code !== 0) console.error(`ningyu exited with ${code}`);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  process.env.NINGYU_BASE_URL = baseUrl;
  writeFileSync(join(tmpdir(), "ningyu-e2e.pid"), String(server.pid));
  await waitUntilReady(`${baseUrl}/readyz`, 30_000);
}
