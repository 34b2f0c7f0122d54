// Deterministic hostile HTTP inputs for the wire fuzz test: malformed request lines,
// truncated bodies, invalid UTF-8, huge headers, thousands of topics, bogus
// Last-Event-ID values, bogus JWTs, request smuggling shapes, garbage JSON, random
// bytes. Each input names its category and what a correct server may answer.
import type { RawRequest } from './raw-http.js';

export interface HostileInput extends RawRequest {
  readonly category: string;
  /** 2xx is a correct answer (the input is odd but valid); else only 4xx or a closed connection are. */
  readonly may200: boolean;
  /** When set, the only correct statuses (0: closed without a reply). */
  readonly only?: readonly number[];
}

/** mulberry32: small, fast, and the same sequence for the same seed on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hostileInputs(seed: number, count: number, tokens: { publisher: string; subscriber: string }): HostileInput[] {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const text = (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-._~%/?=&:+') => Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join('');
  const hub = '/.well-known/mercure';
  const close = 'Connection: close\r\n';
  const req = (head: string, body: Buffer | string = ''): Buffer => Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1')]);
  const post = (path: string, type: string, body: Buffer, extra = '') => req(`POST ${path} HTTP/1.1\r\nHost: fuzz\r\n${close}Content-Type: ${type}\r\nContent-Length: ${body.length}\r\n${extra}\r\n`, body);
  const get = (path: string, extra = '') => req(`GET ${path} HTTP/1.1\r\nHost: fuzz\r\n${close}${extra}\r\n`);
  const auth = () => `Authorization: Bearer ${tokens.publisher}\r\n`;
  const bogusToken = (): string => {
    const valid = pick([tokens.publisher, tokens.subscriber]);
    return pick([
      () => text(1 + int(300), 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'),
      () => valid.slice(0, 1 + int(valid.length - 1)),
      () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${valid.split('.')[1]}.`,
      () => `${valid.slice(0, -3)}${text(3, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')}`,
      () => `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(text(int(50))).toString('base64url')}.${text(43, 'abcdefghijklmnopqrstuvwxyz')}`,
      () => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${valid.split('.')[1]}.${valid.split('.')[2]}`,
      () => `${valid}.${valid}`,
      () => text(9000 + int(6000), 'abcdefghijklmnopqrstuvwxyz.'),
    ])();
  };

  const generators: Array<() => HostileInput> = [
    () => {
      const lines = [`GET ${hub}?topic=x HTTP/1.1`, `POST ${hub} HTTP/1.1`, 'GET / HTTP/1.1'];
      const line = pick(lines);
      const mutated = pick([
        () => line.replace('HTTP/1.1', pick(['HTTP/1.1x', 'HTTP/9.9', 'HTTP/0.9', 'HTTP/', 'http/1.1', ''])),
        () => `${text(1 + int(30), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$')} ${line.split(' ')[1]} HTTP/1.1`,
        () => { const at = int(line.length); return `${line.slice(0, at)}${bytes(1 + int(4)).toString('latin1')}${line.slice(at)}`; },
        () => line.replace(' ', '  \t '),
        () => line.replace(/ \//, ' /\0'),
      ])();
      const ending = pick(['\r\n', '\n', '\r']);
      return { category: 'malformed request line', bytes: Buffer.from(`${mutated}${ending}Host: fuzz${ending}${ending}`, 'latin1'), may200: true };
    },
    () => {
      const body = Buffer.from(`topic=https%3A%2F%2Fexample.com%2Ft&data=${text(10 + int(200))}`);
      const sent = int(body.length);
      return { category: 'truncated body', bytes: req(`POST ${hub} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length + 1 + int(5000)}\r\n${random() < 0.5 ? auth() : ''}\r\n`, body.subarray(0, sent)), end: true, may200: false, only: [0, 400, 413] };
    },
    () => {
      const junk = () => pick([() => bytes(1 + int(20)).toString('latin1'), () => '%FF%FE%C3%28%E2%82', () => '%ED%A0%80', () => `%${text(2, 'GHIJKLXYZ%')}`, () => '\xC3\x28\xA0\xA1']);
      if (random() < 0.5) {
        const fields = `topic=${junk()()}&data=${junk()()}&${pick(['id', 'type', 'retry', 'private'])}=${junk()()}`;
        return { category: 'invalid UTF-8', bytes: post(hub, 'application/x-www-form-urlencoded', Buffer.from(fields, 'latin1'), auth()), may200: true };
      }
      return { category: 'invalid UTF-8', bytes: get(`${hub}?topic=${junk()()}&${pick(['lastEventID', 'match', 'topic', 'authorization'])}=${junk()()}`), may200: true };
    },
    () => {
      const huge = random() < 0.5 ? `X-Big: ${'b'.repeat(17_000 + int(50_000))}\r\n` : Array.from({ length: 200 + int(300) }, (_, i) => `X-H${i}: ${'v'.repeat(100)}\r\n`).join('');
      return { category: 'huge headers', bytes: get(`${hub}?topic=x`, huge), may200: false, only: [431] };
    },
    () => {
      const n = pick([101, 500, 1000, 10_000]);
      const topics = Array.from({ length: n }, (_, i) => `topic=t${i}`).join('&');
      if (random() < 0.5) return { category: 'many topics', bytes: get(`${hub}?${topics}`), may200: false, only: n === 10_000 ? [431] : [400, 431] };
      // A subscription past its bounds is a 400, a publication past its limits a 413 (draft 08).
      return { category: 'many topics', bytes: post(hub, 'application/x-www-form-urlencoded', Buffer.from(`${topics}&data=x`), auth()), may200: false, only: [413] };
    },
    () => {
      const id = pick([
        () => text(8000 + int(7000)),
        () => Buffer.from('événement-😀-ид', 'utf8').toString('latin1'),
        () => `a${String.fromCharCode(1 + int(31))}b`,
        () => pick(['earliest', '', '#', 'urn:uuid:00000000-0000-0000-0000-000000000000', '-1', '0']),
        () => bytes(1 + int(40)).toString('latin1').replace(/[\r\n]/g, ''),
      ])();
      return { category: 'bogus Last-Event-ID', bytes: get(`${hub}?topic=x`, `Last-Event-ID: ${id}\r\n`), may200: true };
    },
    () => {
      const token = bogusToken();
      const where = pick(['header', 'query', 'cookie', 'scheme', 'double']);
      const headers = where === 'header' ? `Authorization: Bearer ${token}\r\n` : where === 'cookie' ? `Cookie: mercureAuthorization=${token}\r\nOrigin: http://fuzz\r\n` : where === 'scheme' ? `Authorization: ${pick(['Basic', 'bearer', 'Bearer  ', 'Token'])} ${token}\r\n` : where === 'double' ? `Authorization: Bearer ${token}\r\nAuthorization: Bearer ${tokens.publisher}\r\n` : '';
      const query = where === 'query' ? `&${pick(['authorization', 'access_token'])}=${encodeURIComponent(token)}` : '';
      const bytes = random() < 0.5 ? post(`${hub}?x=1${query}`, 'application/x-www-form-urlencoded', Buffer.from('topic=https%3A%2F%2Fexample.com%2Fjwt&data=never'), headers) : get(`${hub}?topic=x${query}`, headers);
      return { category: 'bogus JWT', bytes, may200: false, only: [400, 401, 403, 431] };
    },
    () => {
      const shape = pick([
        `Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
        `Transfer-Encoding: chunked\r\n\r\n${pick(['zz', '-1', 'fffffffffffffffff', '5;;;\0'])}\r\nhello\r\n0\r\n\r\n`,
        `Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello`,
        `Transfer-Encoding: gzip, chunked, identity\r\n\r\n0\r\n\r\n`,
        `Content-Length: -1\r\n\r\n`,
        `Content-Length: 1e3\r\n\r\n`,
      ]);
      return { category: 'smuggling shapes', bytes: req(`POST ${hub} HTTP/1.1\r\nHost: fuzz\r\n${close}Content-Type: application/x-www-form-urlencoded\r\n${shape}`), end: true, may200: false };
    },
    () => {
      const body = pick([
        () => '{"updates": [',
        () => '['.repeat(1000 + int(50_000)),
        () => `{"updates": ${JSON.stringify(Array.from({ length: 10_001 }, () => ({ topic: 'a' })))}}`,
        () => '{"updates":[{"topic":1e999,"data":{"__proto__":{"x":1}}}]}',
        () => `{"updates":[{"topics":${JSON.stringify(Array.from({ length: 101 }, (_, i) => `t${i}`))}}]}`,
        () => bytes(1 + int(500)).toString('latin1'),
      ])();
      return { category: 'garbage JSON', bytes: post(hub, 'application/json', Buffer.from(body, 'latin1'), auth()), may200: false, only: [400, 413] };
    },
    () => ({ category: 'random bytes', bytes: bytes(1 + int(2000)), end: random() < 0.5, may200: false }),
    () => {
      const method = pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'HEAD', 'POST', 'GET']);
      const path = pick(['/', hub, `${hub}/subscriptions`, `${hub}/subscriptions/%ZZ/x`, '/api/session', '/api/rooms/%00/messages', '/api/rooms/lobby/messages', '/healthz', '/readyz', '/../../etc/passwd', `/${text(1 + int(200))}`, '*']);
      const body = random() < 0.5 ? bytes(int(300)) : Buffer.alloc(0);
      const extra = random() < 0.5 ? `Cookie: mercureAuthorization=${tokens.publisher}\r\nOrigin: https://evil.example\r\n` : '';
      return { category: 'odd methods and paths', bytes: req(`${method} ${path} HTTP/1.1\r\nHost: fuzz\r\n${close}Content-Type: ${pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x'])}\r\nContent-Length: ${body.length}\r\n${extra}\r\n`, body), head: method === 'HEAD', may200: true };
    },
  ];
  return Array.from({ length: count }, () => pick(generators)());
}
