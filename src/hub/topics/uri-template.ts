// RFC 6570 URI templates (levels 1-4) compiled to matchers that recognise the URIs a
// template can expand to: Mercure 0.x topic selectors such as
// `https://example.com/books/{id}` are URI templates. Matching, not expansion, is what a
// hub needs, and no maintained npm package does it, hence this small compiler.
//
// A template becomes a Pattern run by automaton.ts in linear time (no backtracking, so
// `{+a}{+b}{+c}!` costs what `{+a}!` costs). Before it runs, the literal parts are
// checked with native string search: the leading one must start the topic, the trailing
// one end it, the others appear in order; most topics a selector does not want stop there.
import { alt, charClass, compileAutomaton, literal, optional, patternSource, repeat, seq, type Pattern } from './automaton.js';

export interface CompiledUriTemplate {
  /** Upper bound on the steps one evaluation takes per topic character (see selectors.ts). */
  readonly cost: number;
  /** The code unit every matching URI ends with (of the trailing literal), or -1. */
  readonly lastCode: number;
  matches(uri: string): boolean;
  /** True when some URI this template matches starts with `prefix`. */
  canStartWith(prefix: string): boolean;
}

type Operator = '' | '+' | '#' | '.' | '/' | ';' | '?' | '&';

interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  readonly prefix?: number;
}

interface Expression {
  readonly op: Operator;
  readonly vars: readonly VarSpec[];
}

const OPERATORS = new Set<string>(['+', '#', '.', '/', ';', '?', '&']);
const FUTURE_OPERATORS = new Set<string>(['=', ',', '!', '@', '|']);
const VARSPEC = /^((?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*)(?:(\*)|:([1-9][0-9]{0,3}))?$/;
const MAX_VARS_PER_EXPRESSION = 16;

const OCTET = seq(literal('%'), charClass('0123456789ABCDEFabcdef'), charClass('0123456789ABCDEFabcdef'));
/** One character of a simple value: anything but a reserved character (RFC 3986, `:` included), or a percent-encoded octet. */
const UNRESERVED = alt(charClass(":/?#[]@!$&'()*+,;=%", true), OCTET);
/** One character of a `+`/`#` value: reserved characters pass unencoded. */
const RESERVED = alt(charClass('%', true), OCTET);

export function compileUriTemplate(template: string): CompiledUriTemplate {
  const pieces = parseTemplate(template);
  const prefix = typeof pieces[0] === 'string' ? pieces[0] : '';
  const rest = prefix === '' ? pieces : pieces.slice(1);
  const last = rest[rest.length - 1];
  const suffix = typeof last === 'string' ? last : '';
  const middle = (suffix === '' ? rest : rest.slice(0, -1)).filter((piece): piece is string => typeof piece === 'string');
  // The automaton covers everything after the leading literal, the trailing one included.
  const automaton = compileAutomaton(seq(...rest.map(piecePattern)));
  return {
    cost: automaton.cost + 1,
    lastCode: suffix === '' ? -1 : suffix.charCodeAt(suffix.length - 1),
    matches(uri) {
      if (!uri.startsWith(prefix) || !uri.endsWith(suffix)) return false;
      let at = prefix.length;
      for (const part of middle) {
        at = uri.indexOf(part, at);
        if (at < 0) return false;
        at += part.length;
      }
      return uri.length - suffix.length >= at && automaton.matches(uri, prefix.length);
    },
    canStartWith(start) {
      if (start.length <= prefix.length) return prefix.startsWith(start);
      return start.startsWith(prefix) && automaton.canStartWith(start.slice(prefix.length));
    },
  };
}

/** The template's language as an anchored RegExp (backtracking): the oracle tests compare the matcher with. */
export function uriTemplateRegExp(template: string): RegExp {
  return new RegExp(`^${patternSource(seq(...parseTemplate(template).map(piecePattern)))}$`);
}

function piecePattern(piece: string | Expression): Pattern {
  return typeof piece === 'string' ? literal(piece) : expressionPattern(piece);
}

/** Splits a template into literal strings and expressions; throws on malformed ones. */
function parseTemplate(template: string): Array<string | Expression> {
  const pieces: Array<string | Expression> = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const char = template[i] as string;
    if (char === '}') throw new Error(`invalid URI template: unmatched "}" at position ${i}`);
    if (char !== '{') {
      literal += char;
      i++;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end < 0) throw new Error(`invalid URI template: unclosed "{" at position ${i}`);
    const body = template.slice(i + 1, end);
    const nested = body.indexOf('{');
    if (nested >= 0) throw new Error(`invalid URI template: "{" inside an expression at position ${i + 1 + nested}`);
    if (literal !== '') pieces.push(literal);
    literal = '';
    pieces.push(parseExpression(body, i));
    i = end + 1;
  }
  if (literal !== '') pieces.push(literal);
  return pieces;
}

function parseExpression(body: string, position: number): Expression {
  if (body === '') throw new Error(`invalid URI template: empty expression at position ${position}`);
  const first = body[0] as string;
  if (FUTURE_OPERATORS.has(first)) {
    throw new Error(`invalid URI template: reserved operator "${first}" at position ${position}`);
  }
  const op = (OPERATORS.has(first) ? first : '') as Operator;
  const list = op === '' ? body : body.slice(1);
  const vars = list.split(',').map((spec) => {
    const match = VARSPEC.exec(spec);
    if (match === null) {
      throw new Error(`invalid URI template: invalid variable ${JSON.stringify(spec)} in the expression at position ${position}`);
    }
    const [, name = '', explode, prefix] = match;
    return prefix === undefined ? { name, explode: explode !== undefined } : { name, explode: false, prefix: Number(prefix) };
  });
  if (vars.length > MAX_VARS_PER_EXPRESSION) {
    throw new Error(`invalid URI template: more than ${MAX_VARS_PER_EXPRESSION} variables in the expression at position ${position}`);
  }
  return { op, vars };
}

function expressionPattern(expression: Expression): Pattern {
  const { op, vars } = expression;
  const single = vars.length === 1 ? vars[0] : undefined;
  const prefixed = single?.prefix;
  const exploded = vars.some((v) => v.explode);
  // Values of several variables, list items and exploded pairs are all joined by
  // characters outside UNRESERVED, so one loop recognises any of them.
  const items = seq(repeat(UNRESERVED, 1), repeat(seq(charClass(exploded ? ',=' : ','), repeat(UNRESERVED, 1)), 0));
  const value = (unit: Pattern): Pattern => repeat(unit, 1, prefixed ?? Infinity);
  switch (op) {
    case '':
      return prefixed !== undefined ? value(UNRESERVED) : items;
    case '+':
      return value(RESERVED);
    case '#':
      return optional(seq(literal('#'), value(RESERVED)));
    case '.':
      // `.` is itself an unreserved character: `.a.b` is one value or two alike.
      return optional(seq(literal('.'), prefixed !== undefined ? value(UNRESERVED) : items));
    case '/':
      if (prefixed !== undefined) return optional(seq(literal('/'), value(UNRESERVED)));
      return repeat(seq(literal('/'), items), 0, exploded ? Infinity : vars.length);
    default:
      return namedPattern(op, vars);
  }
}

/** `;`, `?` and `&`: `name=value` pairs; the first pair present takes the operator, the others the separator. */
function namedPattern(op: ';' | '?' | '&', vars: readonly VarSpec[]): Pattern {
  const first = literal(op);
  const separator = literal(op === ';' ? ';' : '&');
  const listValue = seq(repeat(UNRESERVED, 1), repeat(seq(literal(','), repeat(UNRESERVED, 1)), 0));
  const value = (v: VarSpec): Pattern => (v.prefix !== undefined ? repeat(UNRESERVED, 1, v.prefix) : listValue);
  const item = (v: VarSpec): Pattern => {
    if (v.explode) {
      // Exploded lists repeat the name; exploded maps use their own keys.
      const pair =
        op === ';'
          ? seq(repeat(UNRESERVED, 1), optional(seq(literal('='), repeat(UNRESERVED, 1))))
          : seq(repeat(UNRESERVED, 1), literal('='), repeat(UNRESERVED, 0));
      return seq(pair, repeat(seq(separator, pair), 0));
    }
    return op === ';' ? seq(literal(v.name), optional(seq(literal('='), value(v)))) : seq(literal(v.name), literal('='), optional(value(v)));
  };
  const alternatives = vars.map((v, j) => seq(first, item(v), ...vars.slice(j + 1).map((w) => optional(seq(separator, item(w))))));
  return optional(alt(...alternatives));
}
