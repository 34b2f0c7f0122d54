// Ports on this host: a free one from the kernel, and a bounded wait until something
// accepts connections on one. Used by the hub (--port 0 with a discovery URL), the
// cluster script, the benches and the tests.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

// Ports handed out by this process: never handed out twice, even once closed again.
const handedOut = new Set<number>();

// The kernel's pick for port 0 comes from the ephemeral range, where every outbound
// connection (Redis clients, HTTP clients) also takes its local port: a port picked
// there can be taken by a client before the server that wanted it binds it. Below
// that range only listeners take ports, so a free one stays free.
/** The first port of the kernel's ephemeral range (where outbound connections take their local ports). */
export function ephemeralPortsStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 12_000) return low;
  } catch {
    // Not Linux: the usual default.
  }
  return 32_768;
}

/** Binds `port` (0: the kernel's pick) for a moment; the port bound, or null when it is taken. */
export async function tryListen(host: string, port: number): Promise<number | null> {
  const server = createServer();
  const outcome = await new Promise<number | null>((resolve) => {
    server.once('error', () => resolve(null));
    server.listen(port, host, () => {
      const address = server.address();
      resolve(address === null || typeof address === 'string' ? null : address.port);
    });
  });
  if (server.listening) {
    server.close();
    await once(server, 'close');
  }
  return outcome;
}

/** A port nobody listens on right now, and not yet handed out by this process: below the ephemeral range when one is free there. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const top = ephemeralPortsStart();
  for (let attempt = 0; attempt < 50; attempt++) {
    const candidate = 10_000 + Math.floor(Math.random() * (top - 10_000));
    if (handedOut.has(candidate)) continue;
    if ((await tryListen(host, candidate)) !== null) {
      handedOut.add(candidate);
      return candidate;
    }
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryListen(host, 0);
    if (port === null) break;
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port on ${host}`);
}

/** Resolves true when a TCP connection to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Retries a connection every 25 ms until one succeeds; rejects after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await canConnect(host, port, 500)) return;
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
