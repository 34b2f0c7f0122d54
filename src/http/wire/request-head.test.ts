import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_HEAD_BYTES, readHead } from './request-head.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const HUB = '/.well-known/mercure';

test('a plain publish head: Node\'s names and values, optional whitespace trimmed, every prefix of it partial', () => {
  const text = `POST ${HUB}?a=1 HTTP/1.1\r\nHost: h\r\nContent-Type:  application/json \t\r\nContent-Length: 5\r\nX-Odd: \xe9t\xe9\r\n\r\n`;
  for (let at = 1; at < text.length; at++) assert.equal(readHead(bytes(text.slice(0, at))), 'partial', `prefix of ${at}`);
  assert.deepEqual(readHead(bytes(`${text}body`)), {
    method: 'POST',
    url: `${HUB}?a=1`,
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    headers: { host: 'h', 'content-type': 'application/json', 'content-length': '5', 'x-odd': '\xe9t\xe9' },
    length: text.length,
    keepAlive: true,
    lengthAt: text.indexOf('5\r\n'),
  });
});

test('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 never', () => {
  const head = (version: string, extra = ''): unknown => {
    const result = readHead(bytes(`GET ${HUB} HTTP/${version}\r\nHost: h\r\n${extra}\r\n`));
    return typeof result === 'string' ? result : result.keepAlive;
  };
  assert.equal(head('1.1'), true);
  assert.equal(head('1.1', 'Connection: Close\r\n'), false);
  assert.equal(head('1.1', 'Connection: keep-alive\r\n'), true);
  assert.equal(head('1.0'), false);
  assert.equal(head('1.0', 'Connection: keep-alive\r\n'), false);
  assert.equal(head('1.1', 'Connection: upgrade\r\n'), 'foreign');
  assert.equal(head('1.1', 'Connection: keep-alive, Upgrade\r\n'), 'foreign');
});

test('anything not plainly recognised is foreign, at the first byte that shows it', () => {
  const foreign = [
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', // HTTP/2 preface
    '\x16\x03\x01\x02\x00\x01', // TLS ClientHello
    `QUERY ${HUB} HTTP/1.1\r\n`,
    `HEAD ${HUB} HTTP/1.1\r\n`,
    `get ${HUB} HTTP/1.1\r\n`,
    'GET /api/rooms HTTP/1.1\r\n',
    `GET http://h${HUB} HTTP/1.1\r\n`,
    `GET  ${HUB} HTTP/1.1\r\n`,
    `GET ${HUB} HTTP/1.2\r\n`,
    `GET ${HUB} HTTP/2.0\r\n`,
    `GET ${HUB} HTTP/1.1\n`, // bare LF
    `GET ${HUB} HTTP/1.1\r\nHost: h\n`,
    `GET ${HUB} HTTP/1.1\r\nHost : h\r\n`, // space before the colon
    `GET ${HUB} HTTP/1.1\r\nHost: h\r\n folded\r\n`, // obs-fold
    `GET ${HUB} HTTP/1.1\r\nHost: h\rx\r\n`,
    `GET ${HUB} HTTP/1.1\r\nHost: h\x00\r\n`,
    `GET ${HUB} HTTP/1.1\r\nHost: h\x7f\r\n`,
    `GET ${HUB} HTTP/1.1\r\n\r\n`, // no Host
    `GET ${HUB} HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n`,
    `POST ${HUB} HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n`,
    `POST ${HUB} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n`,
    `POST ${HUB} HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n`,
    `GET ${HUB} HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n`,
    `GET ${HUB} HTTP/1.1\r\nHost: h\r\nconstructor: x\r\n\r\n`,
    `GET ${HUB} HTTP/1.1\r\nHost: h\r\n__proto__: x\r\n\r\n`,
  ];
  for (const text of foreign) assert.equal(readHead(bytes(text)), 'foreign', JSON.stringify(text));
  const big = `GET ${HUB} HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`;
  assert.equal(readHead(bytes(big)), 'foreign', 'a head over MAX_HEAD_BYTES');
  assert.equal(readHead(bytes(`${big}\r\n\r\n`)), 'foreign');
});
