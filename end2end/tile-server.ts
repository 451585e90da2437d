// A map tile server on loopback for the map spec: every /tiles/{z}/{x}/{y}.png
// request gets the same plain PNG, and the server records the paths asked for.
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { crc32, deflateSync } from "node:zlib";

/** A running tile server. */
export interface TileServer {
  /** The Leaflet URL template of its tiles. */
  template: string;
  /** Paths requested so far, such as /tiles/13/6797/3300.png. */
  requested: string[];
  close(): Promise<void>;
}

/** Encodes a square, single-colour RGB image as PNG. */
function solidPng(size: number, [red, green, blue]: [number, number, number]): Buffer {
  // Each scanline starts with filter type 0 (none).
  const row = Buffer.alloc(1 + size * 3);
  for (let x = 0; x < size; x++) {
    row[1 + x * 3] = red;
    row[2 + x * 3] = green;
    row[3 + x * 3] = blue;
  }
  const pixels = Buffer.concat(Array.from({ length: size }, () => row));

  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, checksum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bits per channel
  header[9] = 2; // colour type: RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", deflateSync(pixels)), chunk("IEND", Buffer.alloc(0))]);
}

export async function startTileServer(): Promise<TileServer> {
  const tile = solidPng(256, [226, 232, 214]);
  const requested: string[] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? "";
    requested.push(path);
    if (/^\/tiles\/\d+\/\d+\/\d+\.png$/.test(path)) {
      response.writeHead(200, { "content-type": "image/png", "content-length": tile.length });
      response.end(tile);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    template: `http://127.0.0.1:${port}/tiles/{z}/{x}/{y}.png`,
    requested,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
