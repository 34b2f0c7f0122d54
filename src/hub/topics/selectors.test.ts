import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldError } from '../../errors.js';
import { compileMatcher, isReservedTopic, MAX_TOPIC_LENGTH, validateTopic } from './selectors.js';

const HUB = 'https://hub.example/.well-known/mercure';

function invalidField(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof HeraldError && error.code === 'invalid_field' && pattern.test(error.message);
}

describe('compileMatcher', () => {
  it('treats * as any topic for every kind', () => {
    for (const kind of ['auto', 'exact', 'urlpattern'] as const) {
      const matcher = compileMatcher('*', kind, HUB);
      assert.equal(matcher.kind, 'any');
      assert.equal(matcher.matches('https://example.com/anything'), true);
      assert.equal(matcher.matches('foo'), true);
    }
  });

  it('auto: exact unless the selector holds a URI template', () => {
    const exact = compileMatcher('https://example.com/books/1', 'auto', HUB);
    assert.equal(exact.kind, 'exact');
    assert.equal(exact.matches('https://example.com/books/1'), true);
    assert.equal(exact.matches('https://example.com/books/12'), false);
    const template = compileMatcher('https://example.com/books/{id}', 'auto', HUB);
    assert.equal(template.kind, 'template');
    assert.equal(template.matches('https://example.com/books/12'), true);
    assert.equal(template.matches('https://example.com/books/12/reviews'), false);
    assert.equal(template.matches('https://example.com/authors/12'), false);
  });

  it('exact: byte for byte, never resolved against the hub, braces included', () => {
    const matcher = compileMatcher('https://example.com/{id}', 'exact', HUB);
    assert.equal(matcher.kind, 'exact');
    assert.equal(matcher.matches('https://example.com/{id}'), true);
    assert.equal(matcher.matches('https://example.com/1'), false);
    const relative = compileMatcher('/books/1', 'exact', HUB);
    assert.equal(relative.matches('https://hub.example/books/1'), false);
    assert.equal(compileMatcher('https://example.com/Books', 'exact', HUB).matches('https://example.com/books'), false);
  });

  it('urlpattern: absolute patterns match absolute topics', () => {
    const matcher = compileMatcher('https://example.com/books/:id', 'urlpattern', HUB);
    assert.equal(matcher.kind, 'urlpattern');
    assert.equal(matcher.matches('https://example.com/books/1'), true);
    assert.equal(matcher.matches('https://EXAMPLE.com/books/1'), true, 'hosts are case-insensitive');
    assert.equal(matcher.matches('https://example.com/Books/1'), false, 'paths are case-sensitive (no ignoreCase)');
    assert.equal(matcher.matches('https://example.com/books/1/chapters'), false);
    assert.equal(matcher.matches('https://other.example/books/1'), false);
    assert.equal(matcher.matches('http://example.com/books/1'), false);
    const typed = compileMatcher('https://example.com/books/:id(\\d+)', 'urlpattern', HUB);
    assert.equal(typed.matches('https://example.com/books/42'), true);
    assert.equal(typed.matches('https://example.com/books/abc'), false);
  });

  it('urlpattern: relative patterns and relative topics resolve against the hub URL', () => {
    const matcher = compileMatcher('/.well-known/mercure/subscriptions/:topic/:subscriber', 'urlpattern', HUB);
    assert.equal(matcher.matches('/.well-known/mercure/subscriptions/a/b'), true);
    assert.equal(matcher.matches('https://hub.example/.well-known/mercure/subscriptions/a/b'), true);
    assert.equal(matcher.matches('https://other.example/.well-known/mercure/subscriptions/a/b'), false);
    assert.equal(matcher.matches('/.well-known/mercure/subscriptions/a'), false);
    const wildcard = compileMatcher('https://*.example.com/*', 'urlpattern', HUB);
    assert.equal(wildcard.matches('https://api.example.com/x/y'), true);
    assert.equal(wildcard.matches('https://example.org/x'), false);
  });

  it('refuses invalid selectors with an invalid_field error naming them', () => {
    assert.throws(() => compileMatcher('https://example.com/{id', 'auto', HUB), invalidField(/"https:\/\/example.com\/\{id".*unclosed "\{"/));
    assert.throws(() => compileMatcher('https://example.com/:id(', 'urlpattern', HUB), invalidField(/"https:\/\/example.com\/:id\(": invalid URL pattern/));
    assert.throws(() => compileMatcher('', 'exact', HUB), invalidField(/empty/));
    assert.throws(() => compileMatcher('a\u0000b', 'exact', HUB), invalidField(/U\+0000 at position 1/));
    assert.throws(() => compileMatcher('x'.repeat(2049), 'auto', HUB), invalidField(/longer than 2048/));
  });

  it('refuses patterns whose matching could backtrack without bound', () => {
    const refused: Array<[string, 'auto' | 'urlpattern', RegExp]> = [
      ['/((?:a|a)+)x', 'urlpattern', /groups inside a URL pattern regexp/],
      ['/(.*)+', 'urlpattern', /repeat modifiers/],
      ['/a:b+', 'urlpattern', /repeat modifiers/],
      ['/:a-:b-:c-:d/x', 'urlpattern', /too complex: 4 variable parts/],
      ['/*/*/*/*x', 'urlpattern', /too complex/],
      ['/(\\w+\\w+\\w+\\w+)', 'urlpattern', /too complex/],
    ];
    for (const [source, kind, message] of refused) {
      assert.throws(() => compileMatcher(source, kind, HUB), invalidField(message), source);
    }
  });

  it('runs templates in linear time, so any number of competing parts is accepted at any topic length', () => {
    const four = compileMatcher('https://e.com/{a}-{b}-{c}-{d}', 'auto', HUB);
    assert.equal(four.matches(`https://e.com/${'a'.repeat(1000)}-b-c-d`), true);
    const hostile = compileMatcher('{+a}{+b}{+c}{+d}{e}', 'auto', HUB);
    const adversarial = `${'a'.repeat(MAX_TOPIC_LENGTH - 1)}/`;
    const started = performance.now();
    assert.equal(hostile.matches(adversarial), false);
    assert.ok(performance.now() - started < 250, 'a 2048-character topic costs milliseconds at most');
  });

  it('bounds the topic length a costly URL pattern evaluates, and stays fast at the bound', () => {
    const three = compileMatcher('/:a-:b-:c', 'urlpattern', HUB);
    assert.equal(three.matches(`/${'a'.repeat(100)}-b-c`), true);
    assert.equal(three.matches(`/${'a'.repeat(200)}-b-c`), false, 'longer than 2^22^(1/3) characters: not evaluated');
    const patterns = compileMatcher('/*/*/*x', 'urlpattern', HUB);
    const startedPattern = performance.now();
    assert.equal(patterns.matches(`/${'a/'.repeat(1000)}`), false);
    assert.equal(patterns.matches(`/${'a/'.repeat(40)}x`), true);
    assert.ok(performance.now() - startedPattern < 250);
  });

  it('gives every matcher a cost per topic character', () => {
    assert.equal(compileMatcher('*', 'auto', HUB).cost, 1);
    assert.equal(compileMatcher('https://example.com/a', 'auto', HUB).cost, 1);
    const template = compileMatcher('https://example.com/books/{id}', 'auto', HUB).cost;
    assert.ok(template > 1 && template < 30, `${template}`);
    const path = compileMatcher('https://example.com/books/:id', 'urlpattern', HUB).cost;
    const competing = compileMatcher('/:a-:b', 'urlpattern', HUB).cost;
    assert.ok(path < 20, `${path}`);
    assert.ok(competing > 1000, `two competing parts backtrack up to 2048^2 steps on the longest topic (${competing})`);
  });

  it('tells which matchers may match the hub subscription events', () => {
    const prefix = '/.well-known/mercure/subscriptions/';
    const may = [
      ['*', 'auto'],
      ['/.well-known/mercure/subscriptions/a/b', 'exact'],
      ['/.well-known/mercure/subscriptions{/topic}{/subscriber}', 'auto'],
      ['{+x}', 'auto'],
      ['/.well-known/mercure/subscriptions/:topic/:subscriber', 'urlpattern'],
      ['https://other.example/*', 'urlpattern'], // conservative: only the path is looked at
    ] as const;
    for (const [source, kind] of may) assert.equal(compileMatcher(source, kind, HUB).canMatchPrefix(prefix), true, source);
    const never = [
      ['https://example.com/books/1', 'exact'],
      ['https://example.com/books/{id}', 'auto'],
      ['{a}', 'auto'],
      ['https://example.com/books/:id', 'urlpattern'],
      ['/rooms/:room', 'urlpattern'],
    ] as const;
    for (const [source, kind] of never) assert.equal(compileMatcher(source, kind, HUB).canMatchPrefix(prefix), false, source);
  });
});

describe('isReservedTopic', () => {
  it('detects the hub namespace by resolved path, whatever the scheme and authority', () => {
    const reserved = [
      '/.well-known/mercure',
      '/.well-known/mercure/subscriptions/a/b',
      'https://hub.example/.well-known/mercure/x',
      'https://evil.example/.well-known/mercure/x',
      'foo:/.well-known/mercure/x',
      '/.well-known/%6Dercure/x',
      '/a/../.well-known/mercure/x',
      'https://evil.example/x/%2e%2e/.well-known/mercure',
    ];
    for (const topic of reserved) assert.equal(isReservedTopic(topic, HUB), true, topic);
    const free = ['/.well-known/mercurex', '/.well-known/mercurex/a', 'foo', 'urn:uuid:1', 'https://example.com/books/1', '/.well-known/mercure/../x', 'http://[bad'];
    for (const topic of free) assert.equal(isReservedTopic(topic, HUB), false, topic);
  });

  it('resolves dot-relative topics against the hub URL', () => {
    // Against .../.well-known/mercure, "./" is /.well-known/: the result is /.well-known/.well-known/mercure/a.
    assert.equal(isReservedTopic('./.well-known/mercure/a', HUB), false);
    assert.equal(isReservedTopic('./mercure/a', HUB), true);
    assert.equal(isReservedTopic('./.well-known/mercure/a', 'https://hub.example/'), true);
    // The fast path (no "well-known" anywhere) must not hide what resolution finds.
    assert.equal(isReservedTopic('mercure/a', 'https://hub.example/.well-known/'), true);
    assert.equal(isReservedTopic('mercure/a', 'https://hub.example/'), false);
    assert.equal(isReservedTopic('/.well-k%6Eown/mercure/a', 'https://hub.example/'), true);
  });
});

describe('validateTopic', () => {
  it('accepts ordinary topics, IRIs included', () => {
    for (const topic of ['https://example.com/books/1', 'foo', 'https://example.com/caf\u00e9', 'x'.repeat(MAX_TOPIC_LENGTH), 'emoji \u{1F600}']) {
      assert.doesNotThrow(() => validateTopic(topic));
    }
  });

  it('refuses a topic over MAX_TOPIC_LENGTH as field_too_long (413: a publication past its limits)', () => {
    assert.throws(
      () => validateTopic('x'.repeat(MAX_TOPIC_LENGTH + 1)),
      (error: unknown) => error instanceof HeraldError && error.code === 'field_too_long' && error.status === 413 && /longer than 2048/.test(error.message),
    );
  });

  it('refuses empty, control characters, DEL, C1 and unpaired surrogates', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a\nb', /U\+000A at position 1/],
      ['a\tb', /U\+0009/],
      ['a\u007fb', /U\+007F/],
      ['a\u0085b', /U\+0085/],
      ['a\u009fb', /U\+009F/],
      ['a\ud800b', /U\+D800/],
      ['a\udc00', /U\+DC00/],
    ];
    for (const [topic, message] of cases) assert.throws(() => validateTopic(topic), invalidField(message), JSON.stringify(topic));
  });

  it('gives every code point the same verdict as the full rule, in and around printable ASCII (its fast path)', () => {
    // The rule without the fast path: C0, DEL, C1, unpaired surrogates, then format characters.
    const forbidden = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    const format = /\p{Cf}/u;
    let refused = 0;
    const check = (topic: string): void => {
      const expected = forbidden.test(topic) || format.test(topic);
      let threw = false;
      try {
        validateTopic(topic);
      } catch (error) {
        assert.ok(error instanceof HeraldError && error.code === 'invalid_field', JSON.stringify(topic));
        threw = true;
      }
      assert.equal(threw, expected, `${JSON.stringify(topic)}: ${expected ? 'must be refused' : 'must pass'}`);
      if (threw) refused++;
    };
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code);
      check(`https://example.com/${char}`);
      check(`${char}https://example.com/`);
    }
    for (const astral of ['\u{1F600}', '\u{E0001}', '\u{E007F}', '\u{110BD}', '\u{1D173}', '\u{10FFFF}']) check(`https://example.com/${astral}`);
    // Hostile spellings: invisible format characters (soft hyphen, zero-width space, bidi overrides, BOM, tags).
    for (const topic of ['https://exa\u00admple.com/', 'https://example.com/\u200b', 'https://example.com/\u202eevil', '\ufeffhttps://example.com/', 'https://example.com/\u{E0041}']) {
      assert.throws(() => validateTopic(topic), invalidField(/Unicode format characters/), JSON.stringify(topic));
    }
    // Every C0/C1 control, DEL, every lone surrogate and every BMP Cf, each twice.
    assert.ok(refused > 2 * (32 + 1 + 32 + 2048), `${refused} refused`);
  });
});
