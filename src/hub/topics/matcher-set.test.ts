import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileMatcher, MatcherSet, type TopicMatcher } from './selectors.js';

const HUB = 'https://hub.example/.well-known/mercure';

/** Wraps a matcher to count evaluations, so the cache can be observed. */
function counted(matcher: TopicMatcher): { matcher: TopicMatcher; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    matcher: { ...matcher, matches: (topic) => (calls.push(topic), matcher.matches(topic)) },
  };
}

describe('MatcherSet', () => {
  it('indexes exact topics and reports exact-only sets', () => {
    const set = new MatcherSet([
      compileMatcher('https://example.com/a', 'auto', HUB),
      compileMatcher('https://example.com/b', 'exact', HUB),
      compileMatcher('https://example.com/a', 'auto', HUB),
    ]);
    assert.equal(set.isExactOnly, true);
    assert.equal(set.hasAny, false);
    assert.equal(set.size, 3);
    assert.deepEqual(set.exactTopics(), ['https://example.com/a', 'https://example.com/b']);
    assert.equal(set.matchesAny(['https://example.com/x', 'https://example.com/b']), true);
    assert.equal(set.matchesAny(['https://example.com/x']), false);
    assert.equal(set.matchesAny([]), false);
  });

  it('mixes exact, template and pattern matchers', () => {
    const set = new MatcherSet([
      compileMatcher('https://example.com/a', 'auto', HUB),
      compileMatcher('https://example.com/books/{id}', 'auto', HUB),
      compileMatcher('/rooms/:room', 'urlpattern', HUB),
    ]);
    assert.equal(set.isExactOnly, false);
    assert.equal(set.hasAny, false);
    assert.deepEqual(set.exactTopics(), ['https://example.com/a']);
    assert.equal(set.matches('https://example.com/books/3'), true);
    assert.equal(set.matches('/rooms/lobby'), true);
    assert.equal(set.matches('https://hub.example/rooms/lobby'), true);
    assert.equal(set.matches('/rooms/lobby/x'), false);
    assert.equal(set.matchesAny(['nope', 'https://example.com/books/3']), true);
  });

  it('the wildcard matches everything and is not exact-only', () => {
    const set = new MatcherSet([compileMatcher('*', 'auto', HUB)]);
    assert.equal(set.hasAny, true);
    assert.equal(set.isExactOnly, false);
    assert.deepEqual(set.exactTopics(), []);
    assert.equal(set.matchesAny(['anything']), true);
  });

  it('an empty set matches nothing', () => {
    const set = new MatcherSet([]);
    assert.equal(set.isExactOnly, true);
    assert.equal(set.matchesAny(['a', 'b']), false);
  });

  it('caches non-exact results per topic, bounded, oldest dropped first', () => {
    const probe = counted(compileMatcher('https://example.com/books/{id}', 'auto', HUB));
    const set = new MatcherSet([probe.matcher], { cacheSize: 2 });
    assert.equal(set.matches('https://example.com/books/1'), true);
    assert.equal(set.matches('https://example.com/books/1'), true);
    assert.equal(set.matches('https://example.com/x'), false);
    assert.equal(set.matches('https://example.com/x'), false);
    assert.deepEqual(probe.calls, ['https://example.com/books/1', 'https://example.com/x']);
    assert.equal(set.matches('https://example.com/books/2'), true); // evicts books/1
    assert.equal(set.matches('https://example.com/x'), false); // still cached
    assert.equal(set.matches('https://example.com/books/1'), true); // evaluated again
    assert.deepEqual(probe.calls, ['https://example.com/books/1', 'https://example.com/x', 'https://example.com/books/2', 'https://example.com/books/1']);
  });

  it('does not evaluate patterns for exact hits', () => {
    const probe = counted(compileMatcher('/rooms/:room', 'urlpattern', HUB));
    const set = new MatcherSet([compileMatcher('https://example.com/a', 'exact', HUB), probe.matcher]);
    assert.equal(set.matches('https://example.com/a'), true);
    assert.deepEqual(probe.calls, []);
  });

  it('sums its matchers\' costs and knows whether any may match under a prefix', () => {
    const matchers = [compileMatcher('https://example.com/a', 'auto', HUB), compileMatcher('https://example.com/books/{id}', 'auto', HUB), compileMatcher('{+a}!', 'auto', HUB)];
    const set = new MatcherSet(matchers);
    assert.equal(set.cost, matchers.reduce((sum, m) => sum + m.cost, 0));
    assert.equal(set.canMatchPrefix('/.well-known/mercure/subscriptions/'), true, '{+a}! may');
    assert.equal(new MatcherSet(matchers.slice(0, 2)).canMatchPrefix('/.well-known/mercure/subscriptions/'), false);
  });
});
