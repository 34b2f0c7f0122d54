// RFC 6570 URI templates (levels 1-4) compiled to anchored RegExps that recognise the
// URIs a template can expand to: Mercure 0.x topic selectors such as
// `https://example.com/books/{id}` are URI templates. Matching, not expansion, is what a
// hub needs, and no maintained npm package does it, hence this small compiler.
//
// Every repetition inside one expression is kept unambiguous (its separator is never a
// character of the value class), so a compiled template backtracks at most polynomially;
// `degree` says how many variable-width parts may compete for the same characters, so
// callers can bound the input length (see selectors.ts).

export interface CompiledUriTemplate {
  readonly regexp: RegExp;
  /** Variable-width parts that may compete for the same characters: worst-case matching cost grows as length^degree. */
  readonly degree: number;
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

/** One character of a simple value: anything but a reserved character (RFC 3986, `:` included), or a percent-encoded octet. */
const UNRESERVED = "(?:[^:/?#\\[\\]@!$&'()*+,;=%]|%[0-9A-Fa-f]{2})";
/** One character of a `+`/`#` value: reserved characters pass unencoded. */
const RESERVED = '(?:[^%]|%[0-9A-Fa-f]{2})';
/** Characters outside UNRESERVED: a literal made of one of them separates variable parts. */
const SEPARATING = new Set(":/?#[]@!$&'()*+,;=%");

export function compileUriTemplate(template: string): RegExp {
  return analyzeUriTemplate(template).regexp;
}

export function analyzeUriTemplate(template: string): CompiledUriTemplate {
  let source = '^';
  let global = 0; // parts able to span any character (+ and #)
  let segment = 0; // parts since the last separating literal
  let worstSegment = 0;
  for (const piece of parseTemplate(template)) {
    if (typeof piece === 'string') {
      for (const char of piece) {
        if (SEPARATING.has(char)) segment = 0;
      }
      source += escapeRegExp(piece);
      continue;
    }
    source += expressionSource(piece);
    if (piece.op === '+' || piece.op === '#') global++;
    else worstSegment = Math.max(worstSegment, ++segment);
  }
  return { regexp: new RegExp(`${source}$`), degree: global + worstSegment };
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

function expressionSource(expression: Expression): string {
  const { op, vars } = expression;
  const single = vars.length === 1 ? vars[0] : undefined;
  const prefixed = single?.prefix !== undefined ? `{1,${single.prefix}}` : undefined;
  const exploded = vars.some((v) => v.explode);
  // Values of several variables, list items and exploded pairs are all joined by
  // characters outside UNRESERVED, so one unambiguous loop recognises any of them.
  const items = `${UNRESERVED}+(?:[${exploded ? ',=' : ','}]${UNRESERVED}+)*`;
  switch (op) {
    case '':
      return prefixed !== undefined ? `${UNRESERVED}${prefixed}` : items;
    case '+':
      return `${RESERVED}${prefixed ?? '+'}`;
    case '#':
      return `(?:#${RESERVED}${prefixed ?? '+'})?`;
    case '.':
      // `.` is itself an unreserved character: `.a.b` is one value or two, so the
      // separator is folded into the value class rather than looped over.
      return prefixed !== undefined ? `(?:\\.${UNRESERVED}${prefixed})?` : `(?:\\.${items})?`;
    case '/':
      if (prefixed !== undefined) return `(?:/${UNRESERVED}${prefixed})?`;
      return `(?:/${items})${exploded ? '*' : `{0,${vars.length}}`}`;
    default:
      return namedSource(op, vars);
  }
}

/** `;`, `?` and `&`: `name=value` pairs; the first pair present takes the operator, the others the separator. */
function namedSource(op: ';' | '?' | '&', vars: readonly VarSpec[]): string {
  const first = op === '?' ? '\\?' : op;
  const separator = op === ';' ? ';' : '&';
  const value = (v: VarSpec): string =>
    v.prefix !== undefined ? `${UNRESERVED}{1,${v.prefix}}` : `${UNRESERVED}+(?:,${UNRESERVED}+)*`;
  const item = (v: VarSpec): string => {
    if (v.explode) {
      // Exploded lists repeat the name; exploded maps use their own keys.
      const pair = op === ';' ? `${UNRESERVED}+(?:=${UNRESERVED}+)?` : `${UNRESERVED}+=${UNRESERVED}*`;
      return `${pair}(?:${separator}${pair})*`;
    }
    const name = escapeRegExp(v.name);
    return op === ';' ? `${name}(?:=${value(v)})?` : `${name}=(?:${value(v)})?`;
  };
  const alternatives = vars.map((v, j) => {
    const rest = vars.slice(j + 1).map((w) => `(?:${separator}${item(w)})?`);
    return `${first}${item(v)}${rest.join('')}`;
  });
  return `(?:${alternatives.join('|')})?`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
