// The head memo against readHead itself: whatever bytes follow a remembered head (the
// same head with other digits, a byte changed anywhere, a head cut short), the memo
// either declines (the door then reads in full) or answers exactly what readHead does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeadMemo } from './head-memo.js';
import { readHead, type RequestHead } from './request-head.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJtZXJjdXJlIjp7InB1Ymxpc2giOlsiKiJdfX0.c2lnbmF0dXJl';
const heads = (length: string): string[] => [
  `POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\nauthorization: Bearer ${TOKEN}\r\nContent-Length: ${length}\r\n\r\n`,
  `POST /.well-known/mercure?x=1 HTTP/1.1\r\ncontent-length:${length}\r\nHost: hub.example\r\nContent-Type: application/json\r\n\r\n`,
  `POST /.well-known/mercure HTTP/1.0\r\nCONTENT-LENGTH: \t${length} \t\r\nconnection: keep-alive\r\n\r\n`,
];

function headOf(text: string): RequestHead {
  const head = readHead(Buffer.from(text, 'latin1'));
  assert.ok(typeof head === 'object', text);
  return head;
}

function memoOf(text: string): HeadMemo {
  const memo = HeadMemo.of(Buffer.from(text, 'latin1'), headOf(text));
  assert.ok(memo !== undefined, text);
  return memo;
}

/** The memo's answer for these bytes: none, or readHead's. */
function agrees(memo: HeadMemo, bytes: Buffer): boolean {
  const fast = memo.match(bytes);
  if (fast === undefined) return false;
  assert.deepEqual(fast, readHead(bytes), JSON.stringify(bytes.toString('latin1')));
  return true;
}

test('the same head with another Content-Length is answered from the memo, as readHead answers it', () => {
  for (let i = 0; i < 3; i++) {
    const memo = memoOf(heads('53')[i]!);
    for (const length of ['1', '54', '999', '100000', '000123', '123456789012345']) {
      const text = heads(length)[i]!;
      assert.ok(agrees(memo, Buffer.from(`${text}topic=a&data=b`, 'latin1')), text);
      assert.ok(agrees(memo, Buffer.from(text, 'latin1')), text);
    }
    // Not digits, or more than recognise() takes: read in full.
    for (const length of ['', 'x', '1x', '1234567890123456', '-1']) assert.equal(memo.match(Buffer.from(heads(length)[i]!, 'latin1')), undefined, length);
  }
});

test('a byte changed anywhere, or a head cut short, is declined or read as readHead reads it', () => {
  for (let i = 0; i < 3; i++) {
    const memo = memoOf(heads('53')[i]!);
    const next = Buffer.from(`${heads('61')[i]!}topic=a`, 'latin1');
    let fast = 0;
    for (let at = 0; at < next.length; at++) {
      for (const byte of [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x31, 0x3a, 0x41, 0x61, 0x7f, 0xff]) {
        if (byte === next[at]) continue;
        const changed = Buffer.from(next);
        changed[at] = byte;
        if (agrees(memo, changed)) fast++;
      }
      assert.deepEqual(memo.match(next.subarray(0, at)), at >= next.length - 7 ? readHead(next.subarray(0, at)) : undefined);
    }
    // Only changes to the body or to the digits themselves (as digits) may be answered from the memo.
    assert.ok(fast > 0 && fast <= 11 * 7 + 3, `${fast}`);
  }
});

test('a head without a plain Content-Length is not remembered', () => {
  const get = 'GET /.well-known/mercure?topic=a HTTP/1.1\r\nHost: x\r\n\r\n';
  assert.equal(HeadMemo.of(Buffer.from(get, 'latin1'), headOf(get)), undefined);
  const odd = heads('5 5')[0]!;
  assert.equal(HeadMemo.of(Buffer.from(odd, 'latin1'), headOf(odd)), undefined);
});
