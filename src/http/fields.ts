// Reading form and query fields the way Mercure uses them: repeatable names, and
// flags whose mere presence means something.

export type FieldBag = Record<string, string | string[] | undefined>;

export function all(bag: FieldBag, name: string): string[] {
  const value = bag[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The last value of a field, or undefined. */
export function one(bag: FieldBag, name: string): string | undefined {
  const value = bag[name];
  // No array for the common single value: this runs four times per publish.
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export function has(bag: FieldBag, name: string): boolean {
  return bag[name] !== undefined;
}

export function asFieldBag(value: unknown): FieldBag {
  return value !== null && typeof value === 'object' ? (value as FieldBag) : {};
}
