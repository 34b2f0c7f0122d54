// Links in a message become anchors: built with DOM APIs (the text around them stays
// text nodes), http and https only, opened without giving the target page a handle
// on this one (rel=noopener noreferrer).
import { h } from './dom.js';

const URL_LIKE = /\bhttps?:\/\/[^\s<>"]+/gi;
/** Punctuation that ends a sentence more often than a URL. */
const TRAILING = /[.,;:!?'")\]}]+$/;

function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** The message text as nodes: plain text, with each http(s) URL an anchor. */
export function linkify(text: string): Array<Node | string> {
  const parts: Array<Node | string> = [];
  let at = 0;
  for (const match of text.matchAll(URL_LIKE)) {
    const start = match.index;
    const raw = match[0].replace(TRAILING, '');
    const href = safeHref(raw);
    if (href === undefined || raw === '') continue;
    if (start > at) parts.push(text.slice(at, start));
    parts.push(h('a', { href, rel: 'noopener noreferrer', target: '_blank' }, raw));
    at = start + raw.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
