// The topic matchers of one subscription or one token, tested on every publish (the
// fan-out hot path): exact topics through a Set, `*` as a flag, and only templates and
// URL patterns evaluated, with their per-topic results kept in a bounded cache. Those
// whose matches must end with a given character are filed under it, so a topic only
// meets the patterns that can end like it (100 `{+a}{+b}{+c}!N` cost about 10 calls).
import type { TopicMatcher } from './selectors.js';

export interface MatcherSetOptions {
  /** Per-topic results of template/pattern matching kept (oldest dropped first). Default 1000. */
  readonly cacheSize?: number;
}

const NONE: readonly TopicMatcher[] = Object.freeze([]);

export class MatcherSet {
  readonly matchers: readonly TopicMatcher[];
  /** True when one matcher is the `*` wildcard: every topic matches. */
  readonly hasAny: boolean;
  /** True when every matcher is an exact topic (an empty set included): exactTopics() says it all. */
  readonly isExactOnly: boolean;
  /** Sum of the matchers' costs: the most steps one topic's evaluation takes, per topic character. */
  readonly cost: number;
  /** The exact topics: one alone as a string (the common stream: no Set), several in a Set. */
  private readonly exact: ReadonlySet<string> | string | undefined;
  /** Made only when there are patterns: a subscription of exact topics (most streams) keeps no tables it never reads. */
  private readonly tables: PatternTables | undefined;

  constructor(matchers: readonly TopicMatcher[], options: MatcherSetOptions = {}) {
    this.matchers = matchers;
    this.hasAny = matchers.some((m) => m.kind === 'any');
    const exact = new Set(matchers.filter((m) => m.kind === 'exact').map((m) => m.source));
    this.exact = exact.size === 0 ? undefined : exact.size === 1 ? (exact.values().next().value as string) : exact;
    const patterns = matchers.filter((m) => m.kind === 'template' || m.kind === 'urlpattern');
    this.isExactOnly = !this.hasAny && patterns.length === 0;
    this.tables = patterns.length === 0 ? undefined : patternTables(patterns, options.cacheSize ?? 1000);
    this.cost = matchers.reduce((sum, m) => sum + m.cost, 0);
  }

  /** False only when no topic starting with `prefix` can match one of the matchers. */
  canMatchPrefix(prefix: string): boolean {
    return this.matchers.some((m) => m.canMatchPrefix(prefix));
  }

  /** Number of matchers, duplicates included. */
  get size(): number {
    return this.matchers.length;
  }

  /** The distinct exact topics, in first-seen order. */
  exactTopics(): string[] {
    const exact = this.exact;
    return exact === undefined ? [] : typeof exact === 'string' ? [exact] : [...exact];
  }

  matches(topic: string): boolean {
    const exact = this.exact;
    if (this.hasAny || (typeof exact === 'string' ? exact === topic : exact?.has(topic) === true)) return true;
    const tables = this.tables;
    if (tables === undefined) return false;
    const cache = tables.cache;
    const cached = cache.get(topic);
    if (cached !== undefined) return cached;
    const result = anyMatches(tables.anyEnd, topic) || anyMatches(tables.byEnd.get(topic.charCodeAt(topic.length - 1)), topic);
    if (cache.size >= tables.cacheSize) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
    if (tables.cacheSize > 0) cache.set(topic, result);
    return result;
  }

  /** True when one matcher matches one of the topics (an update's canonical topic and alternates). */
  matchesAny(topics: readonly string[]): boolean {
    return topics.some((topic) => this.matches(topic));
  }
}

/** What only templates and URL patterns need. */
interface PatternTables {
  /** Patterns that can end with any character. */
  readonly anyEnd: readonly TopicMatcher[];
  /** The others, filed by the code unit they must end with. */
  readonly byEnd: Map<number, TopicMatcher[]>;
  readonly cache: Map<string, boolean>;
  readonly cacheSize: number;
}

function patternTables(patterns: readonly TopicMatcher[], cacheSize: number): PatternTables {
  const anyEnd = patterns.filter((m) => m.lastCode < 0);
  const byEnd = new Map<number, TopicMatcher[]>();
  for (const m of patterns) {
    if (m.lastCode < 0) continue;
    const list = byEnd.get(m.lastCode);
    if (list === undefined) byEnd.set(m.lastCode, [m]);
    else list.push(m);
  }
  return { anyEnd: anyEnd.length === 0 ? NONE : anyEnd, byEnd, cache: new Map(), cacheSize };
}

function anyMatches(matchers: readonly TopicMatcher[] | undefined, topic: string): boolean {
  if (matchers === undefined) return false;
  for (let i = 0; i < matchers.length; i++) if (matchers[i]!.matches(topic)) return true;
  return false;
}
