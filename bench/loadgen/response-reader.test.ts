// Unit tests of the publisher's response reader: Content-Length and chunked framing
// split at every byte boundary, bodiless responses, and connection: close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseReader } from './response-reader.js';

const RESPONSES = [
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nurn:uuid:abc',
  'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n',
  'HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n',
  'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 2\r\n\r\nno',
];

/** Feeds one response in two pieces; returns [status, closeAfter] once complete. */
function read(wire: string, cut: number): [number | undefined, boolean] {
  const reader = new ResponseReader();
  const first = reader.feed(wire.slice(0, cut));
  const status = first ?? reader.feed(wire.slice(cut));
  return [status, reader.closeAfter];
}

test('every response is complete only at its last byte, wherever it is split', () => {
  const expected: [number, boolean][] = [[200, false], [201, false], [204, false], [503, true]];
  RESPONSES.forEach((wire, n) => {
    for (let cut = 0; cut <= wire.length; cut++) assert.deepEqual(read(wire, cut), expected[n], `response ${n}, cut ${cut}`);
    assert.equal(new ResponseReader().feed(wire.slice(0, -1)), undefined, `response ${n} is not complete without its last byte`);
  });
});

test('one reader reads responses one after the other', () => {
  const reader = new ResponseReader();
  const statuses = RESPONSES.slice(0, 3).map((wire) => reader.feed(wire));
  assert.deepEqual(statuses, [200, 201, 204]);
});

test('a malformed head or chunk size is an error', () => {
  assert.throws(() => new ResponseReader().feed('SMTP nope\r\n\r\n'), /bad response head/);
  assert.throws(() => new ResponseReader().feed('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'), /bad chunk size/);
});
