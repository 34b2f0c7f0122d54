import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileUriTemplate, uriTemplateRegExp } from './uri-template.js';

/** Checks the linear-time matcher, and the RegExp oracle built from the same pattern. */
function check(template: string, matching: string[], notMatching: string[]): void {
  const matcher = compileUriTemplate(template);
  const regexp = uriTemplateRegExp(template);
  for (const uri of matching) {
    assert.equal(matcher.matches(uri), true, `${template} should match ${uri}`);
    assert.equal(regexp.test(uri), true, `oracle: ${template} should match ${uri}`);
  }
  for (const uri of notMatching) {
    assert.equal(matcher.matches(uri), false, `${template} should not match ${uri}`);
    assert.equal(regexp.test(uri), false, `oracle: ${template} should not match ${uri}`);
  }
}

describe('compileUriTemplate', () => {
  it('matches simple expressions within one path segment', () => {
    check(
      'https://example.com/books/{id}',
      ['https://example.com/books/1', 'https://example.com/books/abc%20d', 'https://example.com/books/caf%C3%A9', 'https://example.com/books/a.b-c_d~e'],
      [
        'https://example.com/books/1/x',
        'https://example.com/authors/1',
        'https://example.com/books/',
        'https://example.com/books/a?b',
        'https://example.com/books/a#b',
        'https://example.com/books/a@b',
        'https://example.com/books/a%2',
        'xhttps://example.com/books/1',
      ],
    );
  });

  it('escapes literal parts', () => {
    check('https://example.com/a.b/(x)/{id}', ['https://example.com/a.b/(x)/7'], ['https://example.com/aXb/(x)/7', 'https://example.com/a.b/x/7']);
    check('urn:example:{id}+{n}', ['urn:example:a+b'], ['urn:example:ab', 'urn:example:a b']);
  });

  it('keeps ":" out of simple values, as RFC 6570 expansion would encode it', () => {
    check('urn:herald:chat:room:{room}', ['urn:herald:chat:room:lobby', 'urn:herald:chat:room:a%3Ab'], ['urn:herald:chat:room:admin:secret', 'urn:herald:chat:room:a:']);
    check('urn:x:{+rest}', ['urn:x:a:b'], []);
  });

  it('lets + and # expressions through reserved characters', () => {
    check('https://example.com/{+path}', ['https://example.com/a/b/c?x=1', 'https://example.com/a%2Fb'], ['https://example.com/', 'https://other.com/a']);
    check('https://example.com/page{#section}', ['https://example.com/page', 'https://example.com/page#a/b,c'], ['https://example.com/page#', 'https://example.com/pagex']);
  });

  it('matches label, path and list expansions', () => {
    check('https://example.com/books/1{.format}', ['https://example.com/books/1', 'https://example.com/books/1.json', 'https://example.com/books/1.tar.gz'], ['https://example.com/books/1.', 'https://example.com/books/1/json']);
    check('https://example.com{/path*}', ['https://example.com', 'https://example.com/a', 'https://example.com/a/b/c'], ['https://example.com/a/', 'https://example.comx']);
    check('https://example.com{/a,b}', ['https://example.com', 'https://example.com/x', 'https://example.com/x/y'], ['https://example.com/x/y/z']);
    check('/l/{list}', ['/l/a', '/l/a,b,c'], ['/l/a,', '/l/,a', '/l/a=1']);
    check('/l/{keys*}', ['/l/a=1,b=2', '/l/a,b'], ['/l/a=1/b=2']);
    check('/l/{x,y}', ['/l/1', '/l/1,2'], ['/l/']);
  });

  it('matches named expansions in the order of the template', () => {
    check('/map{;x,y}', ['/map', '/map;x=1;y=2', '/map;y=2', '/map;x', '/map;x=1,2'], ['/map;z=1', '/map;y=2;x=1', '/map;x=']);
    check('/search{?q,page}', ['/search', '/search?q=a&page=2', '/search?page=2', '/search?q='], ['/search?page=2&q=a', '/search?x=1', '/search?q=a?page=2', '/search&q=a']);
    check('/s{?list*}', ['/s?a=1&b=2', '/s?list=1&list=2'], ['/s?a', '/s&a=1']);
    check('/s?fixed=1{&x}', ['/s?fixed=1', '/s?fixed=1&x=2'], ['/s?fixed=1?x=2', '/s?fixed=1&y=2']);
  });

  it('honours prefix modifiers (a percent-encoded octet counts as one character)', () => {
    check('/u/{name:3}', ['/u/a', '/u/abc', '/u/%20ab'], ['/u/abcd', '/u/']);
    check('/u/{+name:2}', ['/u/a/'], ['/u/a/b']);
  });

  it('rejects malformed templates with a message saying what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['/books/{id', /unclosed "\{" at position 7/],
      ['/books/id}', /unmatched "\}" at position 9/],
      ['/books/{}', /empty expression at position 7/],
      ['/books/{a{b}}', /"\{" inside an expression at position 9/],
      ['/books/{=x}', /reserved operator "=" at position 7/],
      ['/books/{a-b}', /invalid variable "a-b"/],
      ['/books/{a:0}', /invalid variable "a:0"/],
      ['/books/{a:10000}', /invalid variable "a:10000"/],
      ['/books/{a*:3}', /invalid variable "a\*:3"/],
      ['/books/{a,}', /invalid variable ""/],
      [`/b/{${Array.from({ length: 17 }, (_, i) => `v${i}`).join(',')}}`, /more than 16 variables/],
    ];
    for (const [template, message] of cases) {
      assert.throws(() => compileUriTemplate(template), (error: unknown) => error instanceof Error && message.test(error.message), template);
    }
  });

  it('costs the size of its automaton, however many parts compete', () => {
    const plain = compileUriTemplate('https://example.com/books/{id}');
    const hostile = compileUriTemplate('{+a}{+b}{+c}!');
    const wide = compileUriTemplate(`/x/{a:9999}`);
    assert.ok(plain.cost < 30, `a leading literal is checked by string search, not by states (${plain.cost})`);
    assert.ok(hostile.cost < 40, `${hostile.cost}`);
    assert.ok(wide.cost < 30, `a prefix modifier is a counter, not 9999 copies (${wide.cost})`);
    assert.equal(wide.matches(`/x/${'a'.repeat(2000)}`), true);
  });

  it('matches in linear time where a backtracking RegExp takes length^3 steps', () => {
    // Against the RegExp oracle this topic costs ~10^9 steps; the automaton reads each character once per state.
    const matcher = compileUriTemplate('{+a}{+b}{+c}{d}');
    const topic = `${'a'.repeat(2046)}/`;
    const started = performance.now();
    for (let i = 0; i < 10; i++) assert.equal(matcher.matches(topic), false);
    assert.ok(performance.now() - started < 250, 'ten evaluations on a 2047-character topic take milliseconds');
  });

  it('checks literal parts before running the automaton', () => {
    check('https://e.com/{a}/x/{b}.json', ['https://e.com/1/x/2.json'], ['https://e.com/1/x/2.jso', 'https://e.com/1/y/2.json', 'https://e.com/1/x/.json', 'https://e.com/x/.json', 'https://e.com/.json']);
    check('a{x}a', ['aba'], ['a', 'aa']);
  });

  it('knows whether it can match topics under a prefix', () => {
    const prefix = '/.well-known/mercure/subscriptions/';
    assert.equal(compileUriTemplate('/.well-known/mercure/subscriptions{/topic,subscriber}').canStartWith(prefix), true);
    assert.equal(compileUriTemplate('{+any}').canStartWith(prefix), true);
    assert.equal(compileUriTemplate('/{a}/{+b}').canStartWith(prefix), true);
    assert.equal(compileUriTemplate('https://example.com/{+path}').canStartWith(prefix), false);
    assert.equal(compileUriTemplate('{a}{b}{c}').canStartWith(prefix), false, 'simple values cannot hold "/"');
    assert.equal(compileUriTemplate('{+a}{+b}{+c}!').canStartWith(prefix), true);
    assert.equal(compileUriTemplate('/.well-known/{x}').canStartWith('/.well-known/mer'), true);
    assert.equal(compileUriTemplate('/.well-known/{x}').canStartWith(prefix), false);
    assert.equal(compileUriTemplate('/.well-known/{+x}').canStartWith(prefix), true);
  });

  it('agrees with the RegExp oracle on random topics (property)', () => {
    const templates = ['/{a}-{b}', '{+a}{+b}!', '/p{/a,b}', '/x{.a}', '/q{?a,b}', '/m{;a,b}', '/f{#a}', '/l/{x*}', '/u/{n:3}', '/u/{+n:6}x', '{&a*}', '/k{;m*}', '/{a:7}{b}'];
    const alphabet = fc.constantFrom('a', 'b', '1', '-', '.', '/', '!', '?', '&', ';', '=', ',', '#', '%', '%2F', '%4', 'x', 'é', 'n');
    fc.assert(
      fc.property(fc.constantFrom(...templates), fc.array(alphabet, { maxLength: 14 }), fc.constantFrom('', '/', '/p', '/q', '/u/', '/m;a=', '/l/'), (template, parts, head) => {
        const topic = head + parts.join('');
        assert.equal(compileUriTemplate(template).matches(topic), uriTemplateRegExp(template).test(topic), `${template} on ${JSON.stringify(topic)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('matches every expansion of random values (property)', () => {
    const templates = ['https://example.com/{a}', 'https://example.com/{+a}/x', '/p{/a,b}', '/x{.a}', '/q{?a,b}', '/m{;a}', '/f{#a}', '/{a}-{b}'];
    const value = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
    fc.assert(
      fc.property(fc.constantFrom(...templates), value, value, (template, a, b) => {
        const uri = expand(template, { a, b });
        assert.equal(compileUriTemplate(template).matches(uri), true, `${template} -> ${uri}`);
      }),
      { numRuns: 500 },
    );
  });
});

/** A minimal RFC 6570 expander for string values (the property test's oracle). */
function expand(template: string, values: Record<string, string>): string {
  return template.replace(/\{([+#./;?&]?)([^}]*)\}/g, (_, op: string, list: string) => {
    const reserved = op === '+' || op === '#';
    const encode = (s: string): string =>
      reserved ? encodeURI(s).replace(/%25([0-9A-Fa-f]{2})/g, '%$1') : encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const first = { '': '', '+': '', '#': '#', '.': '.', '/': '/', ';': ';', '?': '?', '&': '&' }[op] ?? '';
    const sep = { '': ',', '+': ',', '#': ',', '.': '.', '/': '/', ';': ';', '?': '&', '&': '&' }[op] ?? ',';
    const named = op === ';' || op === '?' || op === '&';
    const parts = list.split(',').map((name) => {
      const v = encode(values[name] ?? '');
      return named ? `${name}=${v}` : v;
    });
    return first + parts.join(sep);
  });
}
