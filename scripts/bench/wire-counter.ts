// Database round trips, counted on the wire: a TCP relay between a client and PostgreSQL that reads the
// protocol's message framing and counts each ReadyForQuery the server sends: one per request the
// client waited on (a simple Query, or an extended-protocol Parse/Bind/Execute…Sync batch). The
// ReadyForQuery that ends a connection's startup is counted apart, as a connection.
import { onTeardown } from "./teardown.ts";

export interface WireCounts {
  /** Requests answered (ReadyForQuery after startup). */
  roundTrips: number;
  connections: number;
}

export interface WireCounter {
  /** `databaseUrl` with host and port pointing at the relay. */
  url: string;
  counts(): WireCounts;
  close(): void;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export function startWireCounter(databaseUrl: string): WireCounter {
  const target = new URL(databaseUrl);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const counts: WireCounts = { roundTrips: 0, connections: 0 };
  const open = new Set<Deno.Conn>();

  (async () => {
    for await (const client of listener) {
      relay(client).catch(() => {});
    }
  })().catch(() => {});

  async function relay(client: Deno.Conn) {
    const server = await Deno.connect({ hostname: target.hostname, port: Number(target.port || 5432) });
    open.add(client);
    open.add(server);
    // Client side: the startup packet has no type byte; an SSL/GSS request gets a one-byte answer.
    let skipServerBytes = 0;
    let clientStarted = false;
    let startupBuffer = new Uint8Array(0);
    const upstream = (async () => {
      for await (const chunk of client.readable) {
        if (!clientStarted) {
          startupBuffer = concat(startupBuffer, chunk);
          if (startupBuffer.length >= 8) {
            const code = new DataView(startupBuffer.buffer, startupBuffer.byteOffset).getInt32(4);
            if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
              skipServerBytes++;
              startupBuffer = startupBuffer.slice(8);
            } else clientStarted = true;
          }
        }
        await write(server, chunk);
      }
    })();
    // Server side: type byte + int32 length (which counts itself), message after message.
    let pending = new Uint8Array(0);
    let started = false;
    const downstream = (async () => {
      for await (const chunk of server.readable) {
        await write(client, chunk);
        let data = concat(pending, chunk);
        while (skipServerBytes > 0 && data.length > 0) {
          if (data[0] !== 0x4e /* N: no SSL */) {
            throw new Error("the server accepted SSL: cannot count an encrypted stream");
          }
          skipServerBytes--;
          data = data.slice(1);
        }
        let at = 0;
        while (data.length - at >= 5) {
          const length = new DataView(data.buffer, data.byteOffset + at + 1).getInt32(0);
          if (data.length - at < 1 + length) break;
          if (data[at] === 0x5a /* Z: ReadyForQuery */) {
            if (started) counts.roundTrips++;
            else {
              started = true;
              counts.connections++;
            }
          }
          at += 1 + length;
        }
        pending = data.slice(at);
      }
    })();
    await Promise.allSettled([upstream, downstream]);
    for (const c of [client, server]) {
      open.delete(c);
      try {
        c.close();
      } catch { /* closed */ }
    }
  }

  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String((listener.addr as Deno.NetAddr).port);
  const close = () => {
    try {
      listener.close();
    } catch { /* closed */ }
    for (const c of open) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  };
  onTeardown("close the wire counter", close);
  return { url: url.toString(), counts: () => ({ ...counts }), close };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function write(conn: Deno.Conn, data: Uint8Array) {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}
