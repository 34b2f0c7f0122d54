import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileUrlPattern } from './url-pattern.js';

const HUB = 'https://hub.example/.well-known/mercure';

describe('compileUrlPattern', () => {
  it('counts competing parts per component; delimiters keep path parameters apart', () => {
    const degrees: Array<[string, number]> = [
      ['https://example.com/books/:id', 1],
      ['https://example.com/users/:u/books/:b/chapters/:c', 1],
      ['/.well-known/mercure/subscriptions/:topic/:subscriber', 1],
      ['/files/:path*', 1],
      ['/users/:u/*', 2],
      ['/:a-:b', 2],
      ['/books/:id(\\d+)', 1],
      ['/x/(foo|bar)', 1],
      ['/:a(\\d+)-(\\w+)-*', 3],
      ['https://*.example.com/*', 1],
      ['/:a-:b-:c-:d', 4],
    ];
    for (const [source, degree] of degrees) assert.equal(compileUrlPattern(source, HUB).degree, degree, source);
  });

  it('refuses shapes with nested quantifiers, with the reason', () => {
    const refused: Array<[string, RegExp]> = [
      ['/((?:a|a)+)', /groups inside a URL pattern regexp are not supported \(pathname\)/],
      ['/(a+)+', /repeat modifiers are only supported on plain parameters/],
      ['/a:b+', /repeat modifiers/],
      ['/{a:b}+', /repeat modifiers|repeated groups/],
      ['/(\\1)', /backreferences/],
      ['/:id(', /Unbalanced pattern|invalid pathname pattern/],
    ];
    for (const [source, message] of refused) {
      assert.throws(() => compileUrlPattern(source, HUB), (e: unknown) => e instanceof Error && message.test(e.message), source);
    }
  });

  it('resolves relative patterns against the hub URL', () => {
    const { pattern } = compileUrlPattern('books/:id', HUB);
    assert.equal(pattern.pathname, '/.well-known/books/:id');
    assert.equal(pattern.hostname, 'hub.example');
  });
});
