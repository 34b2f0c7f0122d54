// V8 keeps a string made by `+`, a template literal or JSON.stringify as a tree of its
// parts (a "cons string": 32 bytes a node, and every part stays alive). For strings
// that live as long as a stream (its presence record's id, the record's event in the
// presence history) that is most of their size: they are made flat instead.

/** The same text as one flat string (a copy); `text` itself when a copy would not be exact. */
export function flatString(text: string): string {
  const copy = Buffer.from(text, 'utf8').toString('utf8');
  // A lone surrogate does not survive UTF-8: then the tree is kept, never a changed text.
  return copy === text ? copy : text;
}

/** `parts` joined by `/` into one flat string (Array.prototype.join builds no tree). */
export function joinPath(parts: readonly string[]): string {
  return parts.join('/');
}
