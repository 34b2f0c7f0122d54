// DOM helpers for the chat page. User data only ever reaches the page through
// textContent (never innerHTML), so a message cannot inject markup.

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

type Attributes = Record<string, string | undefined>;

/** An element with attributes (undefined ones skipped) and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  for (const child of children) element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return element;
}

const sameDay = (a: Date, b: Date): boolean => a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** A <time> in the reader's local time zone: the hour today, the date as well otherwise. */
export function timeElement(iso: string, now: Date = new Date()): HTMLTimeElement {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('time', {}, '');
  const short = sameDay(date, now)
    ? date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString() }, short);
}

/** True when the list is scrolled (nearly) to the bottom, so new lines should keep it there. */
export function isNearBottom(element: HTMLElement, slack = 48): boolean {
  return element.scrollHeight - element.scrollTop - element.clientHeight <= slack;
}

export function scrollToBottom(element: HTMLElement): void {
  element.scrollTop = element.scrollHeight;
}
