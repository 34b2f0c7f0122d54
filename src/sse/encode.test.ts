import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeEvent, encodeEventText, encodeComment, encodeRetry, SseFieldError } from './encode.js';

test('encodes id, event, retry and data byte for byte', () => {
  assert.equal(
    encodeEvent({ id: 'urn:uuid:1', type: 'message', retry: 3000, data: 'hello' }).toString('utf8'),
    'event: message\nid: urn:uuid:1\nretry: 3000\ndata: hello\n\n',
  );
});

test('multi-line data becomes one data line per line, empty lines kept', () => {
  assert.equal(encodeEventText({ data: 'a\n\nb\r\nc\rd\n' }), 'data: a\ndata: \ndata: b\ndata: c\ndata: d\ndata: \n\n');
});

test('leading spaces survive: exactly one space after the colon', () => {
  assert.equal(encodeEventText({ data: '  two spaces' }), 'data:   two spaces\n\n');
});

test('empty data still produces a data line so the event is dispatched', () => {
  assert.equal(encodeEventText({ id: 'x', data: '' }), 'id: x\ndata: \n\n');
});

test('CR, LF or NUL in id or event type are refused, never written', () => {
  for (const bad of ['a\nb', 'a\rb', 'a\r\nid: evil', 'a\0b']) {
    assert.throws(() => encodeEventText({ id: bad, data: 'x' }), SseFieldError);
    assert.throws(() => encodeEventText({ type: bad, data: 'x' }), SseFieldError);
  }
});

test('data cannot inject fields: every line is prefixed with data:', () => {
  const text = encodeEventText({ data: 'ok\n\nevent: evil\nid: 666\r\ndata: x' });
  const lines = text.split('\n').filter((l) => l !== '');
  assert.ok(lines.every((l) => l.startsWith('data: ')), text);
});

test('comments and retry hints', () => {
  assert.equal(encodeComment().toString(), ':\n\n');
  assert.equal(encodeComment('a\nb').toString(), ':a b\n\n');
  assert.equal(encodeRetry(5000).toString(), 'retry: 5000\n\n');
  assert.throws(() => encodeRetry(-1), SseFieldError);
});
