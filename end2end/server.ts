// Starts the real Ningyu server for the specs: on a free loopback port, with
// a fresh SQLite database, the demo data and the stand-in portal.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(__dirname, "..");

/** A running Ningyu server. */
export interface Ningyu {
  baseUrl: string;
  process: ChildProcess;
  /** Stops the server and removes its database. */
  stop(): void;
}

export function freePort(): Promise<number> {
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

/** Starts Ningyu with `extraEnv` on top of the test settings and waits until it is ready. */
export async function startNingyu(extraEnv: Record<string, string> = {}): Promise<Ningyu> {
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
      ...extraEnv,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  server.on("exit", (code) => {
    if (code !== null && code !== 0) console.error(`ningyu exited with ${code}`);
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = () => {
    server.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(`${baseUrl}/readyz`, 30_000);
  } catch (error) {
    stop();
    throw error;
  }
  return { baseUrl, process: server, stop };
}
