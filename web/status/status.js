// @ts-check
// The live status page: follows /status/stream (one JSON sample a second from
// Herald itself) and redraws the numbers and the two-minute sparklines.
import { drawSparkline } from './sparkline.js';

/**
 * @typedef {{ t: number, connections: number, updatesPerSecond: number, deliveriesPerSecond: number,
 *   bytesOutPerSecond: number, latencyP50Ms: number | null, latencyP99Ms: number | null, rssBytes: number,
 *   heapUsedBytes: number, slowConsumersDropped: number, updatesTotal: number, uptimeSeconds: number }} Sample
 */

const SLOTS = 120;
/** A young page draws its few samples over MIN_SLOTS points of width, not 120: a line, not a sliver. */
const MIN_SLOTS = 12;
const BLUE = '#4fb3ff';
const ORANGE = '#ffb454';
/** @type {Sample[]} */
let samples = [];

/** @param {number} bytes */
function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** @param {number} value */
function formatCount(value) {
  return value >= 100 ? Math.round(value).toLocaleString('en') : String(Math.round(value * 10) / 10);
}

/** @param {number | null} ms */
function formatMs(ms) {
  if (ms === null) return '–';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`;
}

/** @param {number} seconds */
function formatUptime(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/** @type {Record<string, (sample: Sample) => string>} */
const TEXT = {
  connections: (s) => formatCount(s.connections),
  updatesPerSecond: (s) => formatCount(s.updatesPerSecond),
  deliveriesPerSecond: (s) => formatCount(s.deliveriesPerSecond),
  bytesOutPerSecond: (s) => `${formatBytes(s.bytesOutPerSecond)}/s`,
  latencyP50Ms: (s) => formatMs(s.latencyP50Ms),
  latencyP99Ms: (s) => formatMs(s.latencyP99Ms),
  rssBytes: (s) => formatBytes(s.rssBytes),
  uptimeSeconds: (s) => formatUptime(s.uptimeSeconds),
  updatesTotal: (s) => formatCount(s.updatesTotal),
  slowConsumersDropped: (s) => formatCount(s.slowConsumersDropped),
};

/** @param {string} name */
function canvas(name) {
  return /** @type {HTMLCanvasElement | null} */ (document.querySelector(`canvas[data-chart="${name}"]`));
}

function render() {
  const latest = samples[samples.length - 1];
  if (latest === undefined) return;
  const slots = Math.min(SLOTS, Math.max(MIN_SLOTS, samples.length));
  for (const element of document.querySelectorAll('[data-metric]')) {
    const name = /** @type {HTMLElement} */ (element).dataset.metric ?? '';
    const text = TEXT[name];
    if (text !== undefined) element.textContent = text(latest);
  }
  for (const name of ['connections', 'updatesPerSecond', 'deliveriesPerSecond', 'bytesOutPerSecond', 'rssBytes']) {
    const target = canvas(name);
    const key = /** @type {keyof Sample} */ (name);
    if (target !== null) drawSparkline(target, [{ values: samples.map((s) => /** @type {number} */ (s[key])), color: BLUE, fill: true }], slots);
  }
  const latency = canvas('latency');
  if (latency !== null) {
    drawSparkline(latency, [
      { values: samples.map((s) => s.latencyP99Ms), color: ORANGE },
      { values: samples.map((s) => s.latencyP50Ms), color: BLUE },
    ], slots);
  }
  document.body.dataset.samples = String(samples.length);
}

/** @param {string} state @param {string} label */
function setState(state, label) {
  const element = document.getElementById('state');
  if (element === null) return;
  element.dataset.state = state;
  element.textContent = label;
}

const source = new EventSource(new URL('stream', import.meta.url));
source.addEventListener('open', () => setState('live', 'live'));
source.addEventListener('error', () => setState('reconnecting', 'reconnecting…'));
source.addEventListener('history', (event) => {
  samples = /** @type {Sample[]} */ (JSON.parse(/** @type {MessageEvent<string>} */ (event).data)).slice(-SLOTS);
  render();
});
source.addEventListener('sample', (event) => {
  samples.push(/** @type {Sample} */ (JSON.parse(/** @type {MessageEvent<string>} */ (event).data)));
  if (samples.length > SLOTS) samples.shift();
  render();
});
window.addEventListener('resize', render);
