// The load of alloc-profile.ts: `sockets` keep-alive connections publishing (one
// request in flight each) for `seconds`, then prints {ok, bad}.
//   node publish-load.mjs <port> <token> <seconds> <sockets>
import { connect } from 'node:net';
const [port, token, seconds, sockets] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
let ok = 0, bad = 0, seq = 0;
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
      if (Date.now() < deadline) s.write(request()); else { s.end(); if (--open === 0) { console.log(JSON.stringify({ ok, bad })); } }
    }
  });
}
