import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { canonicalAddress, connectionKey, retransmitting, tableAddress, tableEntries } from './dead-peers.js';
import { SocketSink } from './socket-sink.js';

test('addresses: Node\'s spellings and the kernel tables\' hex agree', () => {
  assert.equal(canonicalAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(canonicalAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(canonicalAddress('::1'), '0000:0000:0000:0000:0000:0000:0000:0001');
  assert.equal(canonicalAddress('fe80::1%eth0'), 'fe80:0000:0000:0000:0000:0000:0000:0001');
  assert.equal(canonicalAddress('2001:DB8::a:b'), '2001:0db8:0000:0000:0000:0000:000a:000b');
  assert.equal(tableAddress('0100007F'), '127.0.0.1');
  assert.equal(tableAddress('00000000000000000000000001000000'), canonicalAddress('::1'));
  assert.equal(tableAddress('0000000000000000FFFF00000100007F'), '127.0.0.1');
  assert.equal(tableAddress('B80D0120000000000000000001000000'), canonicalAddress('2001:db8::1'));
});

test('only connections whose retransmission timer fired N times in a row are dead', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  const line = (remotePort: string, timer: string, retransmits: string) =>
    `   0: 0100007F:1F90 0200007F:${remotePort} 01 00000010:00000000 ${timer}:000004E2 ${retransmits}     0        0 123 1 0000000000000000 20 4 30 10 -1\n`;
  const table = header + line('C350', '01', '00000006') + line('C351', '01', '00000005') + line('C352', '02', '00000009') + line('C353', '00', '00000000');
  assert.deepEqual([...retransmitting(Buffer.from(table), 6)], [connectionKey(8080, '127.0.0.2', 50000)]);
  assert.equal(retransmitting(Buffer.from(table), 5).size, 2);
});

test('a real loopback connection is found in the kernel\'s table under the key its sink gives (IPv4 and dual-stack IPv6)', async () => {
  for (const [listenHost, connectHost, file] of [['127.0.0.1', '127.0.0.1', '/proc/net/tcp'], ['::', '127.0.0.1', '/proc/net/tcp6'], ['::1', '::1', '/proc/net/tcp6']] as const) {
    const accepted: Socket[] = [];
    const server = createServer((socket) => accepted.push(socket));
    server.listen(0, listenHost);
    await once(server, 'listening');
    const client = connect({ host: connectHost, port: (server.address() as { port: number }).port });
    await once(client, 'connect');
    try {
      while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
      const key = new SocketSink(accepted[0]!).connectionKey();
      assert.ok(key !== undefined);
      const keys = [...tableEntries(readFileSync(file, 'latin1'))].map((entry) => entry.key);
      assert.ok(keys.includes(key), `${key} (listening on ${listenHost}) not among ${keys.length} entries of ${file}`);
    } finally {
      client.destroy();
      for (const socket of accepted) socket.destroy();
      server.close();
    }
  }
});
