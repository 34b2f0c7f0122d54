// A linear-time matcher for the regular languages URI templates describe. A pattern is
// compiled to a Thompson NFA and run as a Pike VM without captures: every live state
// advances one topic character at a time, so one evaluation costs at most
// `cost × topic length` steps, whatever the pattern. A backtracking RegExp costs up to
// length^k for k parts competing for the same characters (`{+a}{+b}{+c}!` took about
// 0.5 ms per topic on one); this cannot.
//
// Bounded repetitions of a loop-free item (`{name:9999}`) use one counter per thread
// instead of 9999 copies: of two threads at the same state the one with the smaller
// count can do all the other can, so each state keeps only its smallest count.

/** One UTF-16 code unit: in (or, negated, outside) a set of ASCII characters. */
export interface CharClass {
  readonly type: 'class';
  readonly chars: string;
  readonly negated: boolean;
}

export type Pattern =
  | CharClass
  | { readonly type: 'literal'; readonly text: string }
  | { readonly type: 'seq'; readonly items: readonly Pattern[] }
  | { readonly type: 'alt'; readonly items: readonly Pattern[] }
  /** `item{min,max}`; max Infinity for unbounded. */
  | { readonly type: 'repeat'; readonly item: Pattern; readonly min: number; readonly max: number };

export const charClass = (chars: string, negated = false): CharClass => ({ type: 'class', chars, negated });
export const literal = (text: string): Pattern => ({ type: 'literal', text });
export const seq = (...items: Pattern[]): Pattern => ({ type: 'seq', items });
export const alt = (...items: Pattern[]): Pattern => ({ type: 'alt', items });
export const repeat = (item: Pattern, min: number, max = Infinity): Pattern => ({ type: 'repeat', item, min, max });
export const optional = (item: Pattern): Pattern => repeat(item, 0, 1);

// Instruction set. CHAR consumes one code unit; the others are epsilon moves.
const CHAR = 0;
const SPLIT = 1; // to a and b
const JUMP = 2; // to a
const COUNT_RESET = 3; // count := 0, to a
const COUNT_LOOP = 4; // count < max: to a (the item); always: to b (the exit), count := 0
const COUNT_NEXT = 5; // count++, to a (its COUNT_LOOP)
const MATCH = 6;
/** Repetitions up to this many are unrolled; longer ones of a loop-free item use the counter. */
const UNROLL_LIMIT = 4;

export interface Automaton {
  /** Upper bound on the live states per topic character: its instruction count. */
  readonly cost: number;
  /** True when the input, from `from` on, is in the language. */
  matches(input: string, from?: number): boolean;
  /** True when some string in the language starts with `prefix`. */
  canStartWith(prefix: string): boolean;
}

export function compileAutomaton(pattern: Pattern): Automaton {
  return new Program(pattern);
}

class Program implements Automaton {
  readonly cost: number;
  private readonly op: number[] = [];
  private readonly a: number[] = [];
  private readonly b: number[] = [];
  /** CHAR: index into classes. COUNT_LOOP: max. */
  private readonly arg: number[] = [];
  /** Per class: membership of each ASCII code unit, and of the others (`code`: the one non-ASCII unit of a literal, else -1). */
  private readonly classes: Array<{ readonly ascii: Uint8Array; readonly other: boolean; readonly code: number }> = [];
  private readonly classIndex = new Map<string, number>();
  private readonly start: number;
  // Scratch space, reused by every evaluation (matching is synchronous).
  private readonly mark: Int32Array;
  private readonly count: Int32Array;
  private lists: [Int32Array, Int32Array];
  private listCounts: [Int32Array, Int32Array];
  private stack: Int32Array;
  private generation = 0;

  constructor(pattern: Pattern) {
    this.start = this.emit(pattern, this.instruction(MATCH));
    const size = this.op.length;
    this.cost = size;
    this.mark = new Int32Array(size);
    this.count = new Int32Array(size);
    this.lists = [new Int32Array(size), new Int32Array(size)];
    this.listCounts = [new Int32Array(size), new Int32Array(size)];
    this.stack = new Int32Array(8 * size + 8);
  }

  matches(input: string, from = 0): boolean {
    const live = this.run(input, from);
    return live > 0 && this.reached(MATCH, live);
  }

  canStartWith(prefix: string): boolean {
    return this.run(prefix, 0) > 0;
  }

  /** Runs the input; returns how many states are live at its end (in lists[0]). */
  private run(input: string, from: number): number {
    let size = this.closure(this.start, 0, 0, this.nextGeneration(), 0);
    this.saveCounts(0, size);
    for (let i = from; i < input.length && size > 0; i++) {
      const code = input.charCodeAt(i);
      const [current, next] = this.lists;
      const [currentCounts] = this.listCounts;
      const generation = this.nextGeneration();
      let nextSize = 0;
      for (let j = 0; j < size; j++) {
        const pc = current[j]!;
        if (this.op[pc] !== CHAR) continue;
        const cls = this.classes[this.arg[pc]!]!;
        const inClass = code < 128 ? cls.ascii[code] === 1 : cls.code >= 0 ? code === cls.code : cls.other;
        if (inClass) nextSize = this.closure(this.a[pc]!, currentCounts[j]!, nextSize, generation, 1);
      }
      this.saveCounts(1, nextSize);
      this.lists = [next, current];
      this.listCounts = [this.listCounts[1], this.listCounts[0]];
      size = nextSize;
    }
    return size;
  }

  /** A smaller count may have reached a listed state after it was listed: take the final ones. */
  private saveCounts(side: 0 | 1, size: number): void {
    const list = this.lists[side];
    const counts = this.listCounts[side];
    for (let j = 0; j < size; j++) counts[j] = this.count[list[j]!]!;
  }

  private reached(op: number, size: number): boolean {
    const list = this.lists[0];
    for (let j = 0; j < size; j++) if (this.op[list[j]!] === op) return true;
    return false;
  }

  private nextGeneration(): number {
    if (this.generation === 0x7fffffff) {
      this.generation = 0;
      this.mark.fill(0);
    }
    return ++this.generation;
  }

  /** Adds the states reachable from pc by epsilon moves to lists[side]; returns its new size. */
  private closure(pc: number, startCount: number, size: number, generation: number, side: 0 | 1): number {
    const list = this.lists[side];
    const { op, a, b, arg, mark, count } = this;
    let stack = this.stack;
    let top = 0;
    stack[top++] = pc;
    stack[top++] = startCount;
    while (top > 0) {
      if (top + 4 > stack.length) {
        const grown = new Int32Array(stack.length * 2);
        grown.set(stack);
        this.stack = stack = grown;
      }
      const n = stack[--top]!;
      const at = stack[--top]!;
      const seen = mark[at] === generation;
      if (seen && count[at]! <= n) continue;
      mark[at] = generation;
      count[at] = n;
      switch (op[at]) {
        case SPLIT:
          stack[top++] = b[at]!;
          stack[top++] = n;
          stack[top++] = a[at]!;
          stack[top++] = n;
          break;
        case JUMP:
          stack[top++] = a[at]!;
          stack[top++] = n;
          break;
        case COUNT_RESET:
          stack[top++] = a[at]!;
          stack[top++] = 0;
          break;
        case COUNT_LOOP:
          stack[top++] = b[at]!;
          stack[top++] = 0;
          if (n < arg[at]!) {
            stack[top++] = a[at]!;
            stack[top++] = n;
          }
          break;
        case COUNT_NEXT:
          stack[top++] = a[at]!;
          stack[top++] = n + 1;
          break;
        default: // CHAR, MATCH: kept in the list; a smaller count found later updates it in place
          if (!seen) {
            list[size] = at;
            size++;
          }
      }
    }
    return size;
  }

  private instruction(code: number, a = -1, b = -1, arg = 0): number {
    this.op.push(code);
    this.a.push(a);
    this.b.push(b);
    this.arg.push(arg);
    return this.op.length - 1;
  }

  private patch(pc: number, a: number, b = this.b[pc]!): void {
    this.a[pc] = a;
    this.b[pc] = b;
  }

  /** Emits the pattern so that it continues at `next`; returns its entry. Built back to front. */
  private emit(pattern: Pattern, next: number): number {
    switch (pattern.type) {
      case 'class':
        return this.instruction(CHAR, next, -1, this.addClass(pattern));
      case 'literal': {
        let entry = next;
        for (let i = pattern.text.length - 1; i >= 0; i--) entry = this.instruction(CHAR, entry, -1, this.addClass(charClass(pattern.text[i]!)));
        return entry;
      }
      case 'seq': {
        let entry = next;
        for (let i = pattern.items.length - 1; i >= 0; i--) entry = this.emit(pattern.items[i]!, entry);
        return entry;
      }
      case 'alt': {
        const entries = pattern.items.map((item) => this.emit(item, next));
        let entry = entries[entries.length - 1] ?? next;
        for (let i = entries.length - 2; i >= 0; i--) entry = this.instruction(SPLIT, entries[i]!, entry);
        return entry;
      }
      case 'repeat':
        return this.emitRepeat(pattern.item, pattern.min, pattern.max, next);
    }
  }

  private emitRepeat(item: Pattern, min: number, max: number, next: number): number {
    let tail: number;
    const extra = max - min;
    if (extra === Infinity) {
      // loop: SPLIT(item -> loop, next)
      const loop = this.instruction(SPLIT, -1, next);
      this.patch(loop, this.emit(item, loop));
      tail = loop;
    } else if (extra > UNROLL_LIMIT && loopFree(item)) {
      const loop = this.instruction(COUNT_LOOP, -1, next, extra);
      this.patch(loop, this.emit(item, this.instruction(COUNT_NEXT, loop)));
      tail = this.instruction(COUNT_RESET, loop);
    } else {
      tail = next;
      for (let i = 0; i < extra; i++) tail = this.instruction(SPLIT, this.emit(item, tail), next);
    }
    for (let i = 0; i < min; i++) tail = this.emit(item, tail);
    return tail;
  }

  private addClass(cls: CharClass): number {
    const key = `${cls.negated ? '^' : ''}${cls.chars}`;
    const known = this.classIndex.get(key);
    if (known !== undefined) return known;
    this.classIndex.set(key, this.classes.length);
    const code = cls.chars.length === 1 && cls.chars.charCodeAt(0) >= 128 ? cls.chars.charCodeAt(0) : -1;
    const ascii = new Uint8Array(128).fill(cls.negated ? 1 : 0);
    if (code < 0) for (const char of cls.chars) ascii[char.charCodeAt(0)] = cls.negated ? 0 : 1;
    this.classes.push({ ascii, other: cls.negated, code });
    return this.classes.length - 1;
  }
}

function loopFree(pattern: Pattern): boolean {
  switch (pattern.type) {
    case 'class':
    case 'literal':
      return true;
    case 'seq':
    case 'alt':
      return pattern.items.every(loopFree);
    case 'repeat':
      return false;
  }
}

/** The same language as a RegExp source: the oracle the tests compare the automaton with. */
export function patternSource(pattern: Pattern): string {
  switch (pattern.type) {
    case 'class': {
      const chars = [...pattern.chars].map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('');
      if (pattern.chars.length === 1 && !pattern.negated) return escapeRegExp(pattern.chars);
      return `[${pattern.negated ? '^' : ''}${chars}]`;
    }
    case 'literal':
      return escapeRegExp(pattern.text);
    case 'seq':
      return pattern.items.map((item) => `(?:${patternSource(item)})`).join('');
    case 'alt':
      return `(?:${pattern.items.map(patternSource).join('|')})`;
    case 'repeat':
      return `(?:${patternSource(pattern.item)}){${pattern.min},${pattern.max === Infinity ? '' : pattern.max}}`;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
