// BASELINE, NOT HERALD. The classic "SSE in Node" tutorial server, kept as a
// yardstick for the benchmark: an array of `res` per topic, and on publish one
// `res.write('data: ' + JSON.stringify(msg) + '\n\n')` per client. No history, no
// auth, no backpressure, O(n) unsubscribe: exactly the design Herald must beat.
// It speaks the same URL shapes as Herald so the load generator needs no adapter.
// Usage: node --import tsx bench/baseline/tutorial-server.ts --port 8081 [--host 127.0.0.1]
import { createServer, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' } } });
const port = Number(values.port ?? 8081);
const host = values.host ?? '127.0.0.1';

const clients = new Map<string, ServerResponse[]>();
let nextId = 1;

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') {
    res.end('ok');
    return;
  }
  if (url.pathname !== '/.well-known/mercure') {
    res.writeHead(404).end();
    return;
  }
  if (req.method === 'GET') {
    const topics = url.searchParams.getAll('topic');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    res.write(':ok\n\n');
    for (const topic of topics) {
      const list = clients.get(topic) ?? [];
      list.push(res);
      clients.set(topic, list);
    }
    req.on('close', () => {
      for (const topic of topics) {
        const list = clients.get(topic) ?? [];
        const index = list.indexOf(res);
        if (index >= 0) list.splice(index, 1);
      }
    });
    return;
  }
  if (req.method === 'POST') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const msg = form.get('data') ?? '';
      for (const topic of form.getAll('topic')) {
        for (const client of clients.get(topic) ?? []) client.write('data: ' + JSON.stringify(msg) + '\n\n');
      }
      res.end(`urn:tutorial:${nextId++}`);
    });
    return;
  }
  res.writeHead(405).end();
});

server.listen(port, host);
process.on('SIGTERM', () => process.exit(0));
