// URL Pattern topic matchers (Mercure 1.0 `matchURLPattern`) with a static cost check.
// The URLPattern standard compiles to backtracking RegExps, so a crafted pattern such
// as `/:a-:b-:c-:d/x` or `/((?:a|a)+)` can freeze the event loop. Before a pattern is
// accepted its components are scanned: nested quantifiers (repeated groups, quantified
// groups inside regexp parts) are refused, and the parts that may compete for the same
// characters are counted as a `degree`; selectors.ts turns the degree into a maximum
// input length, so the worst case stays bounded (the spec's "evaluation cost limit").
import { URLPattern } from 'urlpattern-polyfill';

export interface CompiledUrlPattern {
  readonly pattern: URLPattern;
  /** Variable-width parts that may compete for the same characters, worst component. */
  readonly degree: number;
  /**
   * False only when no URL whose path starts with `path` can match: decided on the
   * pathname's leading literal (a cheap, conservative answer that lets the hub skip
   * this pattern for its own subscription events).
   */
  canMatchPath(path: string): boolean;
}

const COMPONENTS = ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;
/** Parameters (`:name`) of these components cannot cross their delimiter, so delimiters split the cost. */
const DELIMITERS: Partial<Record<(typeof COMPONENTS)[number], string>> = { pathname: '/', hostname: '.' };

type Token =
  | { readonly type: 'char' | 'modifier'; readonly value: string }
  | { readonly type: 'name' | 'asterisk' | 'open' | 'close' }
  | { readonly type: 'regexp'; readonly body: string };

/** Throws an Error saying what is wrong when the pattern is invalid or too costly to evaluate. */
export function compileUrlPattern(source: string, hubUrl: string): CompiledUrlPattern {
  let pattern: URLPattern;
  try {
    // Relative patterns resolve against the hub URL; ignoreCase stays at its default, off (the spec forbids it).
    pattern = new URLPattern(source, hubUrl);
  } catch (error) {
    throw new Error(error instanceof Error ? error.message.replace(/^Failed to construct 'URLPattern': /, '') : String(error));
  }
  let degree = 0;
  for (const component of COMPONENTS) {
    degree = Math.max(degree, componentDegree(pattern[component], DELIMITERS[component] ?? '', component));
  }
  const lead = leadingLiteral(pattern.pathname);
  return { pattern, degree, canMatchPath: (path) => lead.startsWith(path) || path.startsWith(lead) };
}

/** The pathname pattern's characters before its first part, group or escape. */
function leadingLiteral(pathname: string): string {
  const end = pathname.search(/[:*(){}\\?+]/);
  return end < 0 ? pathname : pathname.slice(0, end);
}

/** Cost of one normalized component pattern (as the URLPattern getters return it). */
function componentDegree(text: string, delimiter: string, component: string): number {
  const tokens = lex(text);
  let global = 0; // parts that may span delimiters
  let segment = 0; // parameters since the last delimiter
  let worstSegment = 0;
  let depth = 0;
  let groupHasPart = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    const modifier = next?.type === 'modifier' ? next.value : undefined;
    switch (token.type) {
      case 'char': {
        const prefixesOptional = nextPartModifier(tokens, i + 1);
        if (depth === 0 && delimiter !== '' && token.value === delimiter && prefixesOptional !== '?' && prefixesOptional !== '*') {
          segment = 0;
        }
        break;
      }
      case 'open':
        depth++;
        groupHasPart = false;
        break;
      case 'close':
        depth--;
        if (modifier === '+' || modifier === '*') {
          if (groupHasPart) throw new Error(`repeated groups containing parameters are not supported in the ${component}`);
          global++;
        } else if (modifier === '?') {
          global++;
        }
        break;
      case 'name':
      case 'regexp':
      case 'asterisk': {
        groupHasPart = groupHasPart || depth > 0;
        let weight = 1;
        if (token.type === 'name' && next?.type === 'regexp') {
          i++; // a custom regexp of a named parameter belongs to the same part
          weight = regexpWeight(next.body, component);
        } else if (token.type === 'regexp') {
          weight = regexpWeight(token.body, component);
        }
        const partModifier = nextModifierAt(tokens, i + 1);
        const segmentBound = token.type === 'name' && next?.type !== 'regexp' && delimiter !== '';
        if (partModifier === '+' || partModifier === '*') {
          // `/:seg+` repeats `/[^/]+?`: unambiguous because the delimiter starts each repetition.
          const previous = tokens[i - 1];
          const delimited = previous?.type === 'char' && previous.value === delimiter;
          if (!segmentBound || !delimited) {
            throw new Error(`repeat modifiers are only supported on plain parameters after "${delimiter || '/'}" in the pathname (${component})`);
          }
          global++;
        } else if (segmentBound) {
          worstSegment = Math.max(worstSegment, ++segment);
          if (partModifier === '?') global++;
        } else {
          global += weight + (partModifier === '?' ? 1 : 0);
        }
        break;
      }
      case 'modifier':
        break;
    }
  }
  return global + worstSegment;
}

function nextModifierAt(tokens: readonly Token[], index: number): string | undefined {
  const token = tokens[index];
  return token?.type === 'modifier' ? token.value : undefined;
}

/** The modifier of the part starting at `index`, if a part starts there. */
function nextPartModifier(tokens: readonly Token[], index: number): string | undefined {
  const token = tokens[index];
  if (token === undefined || (token.type !== 'name' && token.type !== 'regexp' && token.type !== 'asterisk')) return undefined;
  const after = token.type === 'name' && tokens[index + 1]?.type === 'regexp' ? index + 2 : index + 1;
  return nextModifierAt(tokens, after);
}

/**
 * A regexp part may hold quantified atoms but no groups (a quantified group inside a
 * repeated context is the classic exponential case); each quantifier counts once.
 */
function regexpWeight(body: string, component: string): number {
  let quantifiers = 0;
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (char === '\\') {
      const escaped = body[i + 1] ?? '';
      if (/[1-9k]/.test(escaped)) throw new Error(`backreferences are not supported in URL pattern regexps (${component})`);
      i++;
      if (/[pPu]/.test(escaped) && body[i + 1] === '{') i = skipTo(body, i + 1, '}');
    } else if (char === '[') {
      i = skipTo(body, i + 1, ']');
    } else if (char === '(') {
      throw new Error(`groups inside a URL pattern regexp are not supported (${component})`);
    } else if (char === '*' || char === '+' || char === '?' || char === '{') {
      if (char === '?' && /[*+?}]/.test(body[i - 1] ?? '')) continue; // lazy marker, not a new quantifier
      quantifiers++;
      if (char === '{') i = skipTo(body, i + 1, '}');
    }
  }
  return Math.max(1, quantifiers);
}

/** Index of the closing character (escapes skipped), or the last index when missing. */
function skipTo(text: string, from: number, close: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === close) return i;
  }
  return text.length - 1;
}

/** The URLPattern tokenizer, reduced to what the cost scan needs. */
function lex(text: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const previous = tokens[tokens.length - 1];
    const afterPart = previous !== undefined && ['name', 'regexp', 'asterisk', 'close'].includes(previous.type);
    if (char === '\\') {
      tokens.push({ type: 'char', value: text[++i] ?? '' });
    } else if (char === '*') {
      tokens.push(afterPart ? { type: 'modifier', value: '*' } : { type: 'asterisk' });
    } else if ((char === '+' || char === '?') && afterPart) {
      tokens.push({ type: 'modifier', value: char });
    } else if (char === '{' || char === '}') {
      tokens.push({ type: char === '{' ? 'open' : 'close' });
    } else if (char === ':' && /[$_\p{ID_Start}]/u.test(text[i + 1] ?? '')) {
      while (/[$_\u200C\u200D\p{ID_Continue}]/u.test(text[i + 1] ?? '')) i++;
      tokens.push({ type: 'name' });
    } else if (char === '(') {
      const end = closingParen(text, i);
      tokens.push({ type: 'regexp', body: text.slice(i + 1, end) });
      i = end;
    } else {
      tokens.push({ type: 'char', value: char });
    }
  }
  return tokens;
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length;
}
