// The publisher's raw keep-alive pool against a real node:http server on loopback:
// statuses and bodies, sockets reused, requests beyond the pool queued, a server that
// closes idle connections, and a server that dies mid-request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { RawHttpPool } from './raw-http.js';

interface Seen {
  readonly bodies: string[];
  readonly sockets: Set<Socket>;
  /** Settles when the server has closed an `/idle-close` connection. */
  idleClosed: Promise<void>;
}

/** `/idle-close` answers, then closes the connection, as a server's keep-alive timeout would. */
async function server(): Promise<{ server: Server; port: number; seen: Seen }> {
  let closed: () => void = () => undefined;
  const seen: Seen = { bodies: [], sockets: new Set(), idleClosed: new Promise((resolve) => (closed = resolve)) };
  const srv = createServer((req, res) => {
    seen.sockets.add(req.socket);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`);
      if (req.url === '/chunked') {
        res.write('part one, ');
        res.end('part two');
      } else res.writeHead(req.url === '/missing' ? 404 : 200).end('ok');
      if (req.url === '/idle-close') {
        req.socket.once('close', closed);
        res.once('finish', () => setImmediate(() => req.socket.destroy()));
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { server: srv, port: (srv.address() as AddressInfo).port, seen };
}

test('posts bodies, returns statuses, reuses its sockets and queues beyond them', async () => {
  const { server: srv, port, seen } = await server();
  const pool = new RawHttpPool('127.0.0.1', port, 2);
  try {
    const statuses = await Promise.all([
      pool.post('/a', 'x=1', { 'content-type': 'text/plain' }),
      pool.post('/missing', 'é', { 'content-type': 'text/plain' }),
      pool.post('/chunked', '', {}),
      pool.post('/b', '{"y":2}', { 'content-type': 'application/json' }),
      pool.post('/c', 'z', {}),
    ]);
    assert.deepEqual(statuses, [200, 404, 200, 200, 200]);
    assert.deepEqual([...seen.bodies].sort(), ['POST /a text/plain x=1', 'POST /b application/json {"y":2}', 'POST /c undefined z', 'POST /chunked undefined ', 'POST /missing text/plain é']);
    assert.equal(seen.sockets.size, 2, 'five requests over the two pooled sockets');
  } finally {
    pool.close();
    srv.closeAllConnections();
    await new Promise((resolve) => srv.close(resolve));
  }
});

test('a connection the server closed while idle is replaced', async () => {
  const { server: srv, port, seen } = await server();
  const pool = new RawHttpPool('127.0.0.1', port, 1);
  try {
    assert.equal(await pool.post('/idle-close', '1', {}), 200);
    await seen.idleClosed;
    // Two turns of the loop: the client's poll phase has seen the FIN and closed its end.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await pool.post('/b', '2', {}), 200);
    assert.equal(seen.sockets.size, 2, 'the second request went over a new connection');
  } finally {
    pool.close();
    await new Promise((resolve) => srv.close(resolve));
  }
});

test('a request whose connection dies is rejected, and the pool carries on', async () => {
  let kill = true;
  const srv = createServer((req, res) => {
    if (kill) {
      kill = false;
      req.socket.destroy();
    } else res.end('ok');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const pool = new RawHttpPool('127.0.0.1', (srv.address() as AddressInfo).port, 1);
  try {
    await assert.rejects(pool.post('/a', '1', {}), /closed before the response|ECONNRESET/);
    assert.equal(await pool.post('/b', '2', {}), 200);
  } finally {
    pool.close();
    await new Promise((resolve) => srv.close(resolve));
  }
});
