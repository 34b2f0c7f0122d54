// The load of alloc-profile.ts: `sockets` keep-alive connections publishing (one
// request in flight each) for `seconds`, then prints {ok, bad, received}. With
// `subscribers` (at most 1000), that many event streams, one per topic the publishes
// rotate over, are opened first (bench scenario 8's shape: every publish is delivered once);
// the child then prints `open` and waits for a line on stdin, so that the parent measures
// the publishing alone.
//   node publish-load.mjs <port> <token> <seconds> <sockets> [subscribers]
import { connect } from 'node:net';
const [port, token, seconds, sockets, subscribers = '0'] = process.argv.slice(2);
let ok = 0, bad = 0, seq = 0, received = 0;
const streams = [];
await Promise.all(Array.from({ length: Number(subscribers) }, (_, i) => new Promise((resolve, reject) => {
  const s = connect(Number(port), '127.0.0.1');
  const topic = encodeURIComponent(`https://bench.herald.test/t/${i}`);
  s.on('connect', () => s.write(`GET /.well-known/mercure?topic=${topic} HTTP/1.1\r\nHost: x\r\n\r\n`));
  // The head arrives once the subscription is registered; afterwards only bytes are counted.
  s.once('data', (d) => (String(d).startsWith('HTTP/1.1 200') ? resolve() : reject(new Error(String(d).slice(0, 200)))));
  s.on('data', (d) => (received += d.length));
  s.on('error', reject);
  streams.push(s);
})));
if (streams.length > 0) {
  console.log('open');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
}
const deadline = Date.now() + Number(seconds) * 1000;
function body() { const t = encodeURIComponent(`https://bench.herald.test/t/${seq++ % 1000}`); return `topic=${t}&data=1+2+3`; }
function request() { const b = body(); return `POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\nauthorization: Bearer ${token}\r\nContent-Length: ${b.length}\r\n\r\n${b}`; }
let open = Number(sockets);
for (let i = 0; i < Number(sockets); i++) {
  const s = connect(Number(port), '127.0.0.1');
  s.setEncoding('latin1');
  let buf = '';
  s.on('connect', () => s.write(request()));
  s.on('data', (d) => {
    buf += d;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n'); if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      if (buf.startsWith('HTTP/1.1 200')) ok++; else { bad++; if (bad < 3) console.error(buf.slice(0, 300)); }
      buf = buf.slice(end + 4 + len);
      if (Date.now() < deadline) s.write(request()); else { s.end(); if (--open === 0) { console.log(JSON.stringify({ ok, bad, received })); for (const t of streams) t.destroy(); } }
    }
  });
}
