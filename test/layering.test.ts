// The layering, written down: every import inside src/ runs down (or stays in its folder), and nothing
// outside src/hub/ reaches into the hub's parts. Imports are read with TypeScript's own pre-processor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Lower rank = lower layer. A file may import its own group, or a group of a strictly lower rank. */
const LAYERS: ReadonlyArray<{ group: string; rank: number; match: (path: string) => boolean }> = [
  { group: 'base', rank: 0, match: (p) => ['errors.ts', 'log.ts', 'made-up-key.ts', 'ports.ts', 'timers.ts'].includes(p) },
  { group: 'sse', rank: 1, match: (p) => p.startsWith('sse/') },
  { group: 'broker', rank: 2, match: (p) => p.startsWith('broker/') },
  { group: 'config', rank: 3, match: (p) => p === 'config.ts' },
  { group: 'hub', rank: 3, match: (p) => p.startsWith('hub/') },
  { group: 'edge', rank: 4, match: (p) => p.startsWith('edge/') },
  { group: 'observability', rank: 4, match: (p) => p.startsWith('observability/') },
  { group: 'http', rank: 5, match: (p) => p.startsWith('http/') },
  { group: 'chat', rank: 5, match: (p) => p.startsWith('chat/') },
  { group: 'app', rank: 6, match: (p) => ['herald.ts', 'shutdown.ts', 'workers.ts', 'backup.ts'].includes(p) },
  { group: 'cli', rank: 7, match: (p) => p === 'cli.ts' },
];

/** What other layers may use of the hub: its facade and the value types it speaks in. */
const HUB_PUBLIC_MODULES = ['hub/hub.ts', 'hub/auth/authenticator.ts', 'hub/topics/selectors.ts', 'hub/publication.ts', 'hub/presence.ts', 'hub/fanout/subscriber.ts', 'hub/mercure-paths.ts'];
const HUB_INTERNAL_FIELD = new RegExp(['\\bhub\\??\\.', '(options|dispatcher|registry)\\b'].join(''));

// Known debts, listed so the test fails on any new one (issue 15 paid the last of them: keep these empty).
const KNOWN_UPWARD: string[] = [];
const KNOWN_HUB_IMPORTS: string[] = [];
const KNOWN_HUB_FIELD_FILES: string[] = [];

const SRC = resolve('src');

function sourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true })
    .map((f) => join(root, String(f)))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
}

function layerOf(pathInSrc: string): { group: string; rank: number } {
  const layer = LAYERS.find((l) => l.match(pathInSrc));
  assert.ok(layer, `src/${pathInSrc} belongs to no layer: add it to LAYERS in test/layering.test.ts`);
  return layer;
}

/** Relative imports of a file, as paths inside src/ (the .js suffix mapped back to .ts). */
function localImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => relative(SRC, resolve(dirname(file), name)).replace(/\.js$/, '.ts'))
    .filter((path) => !path.startsWith('..'));
}

const isTest = (path: string) => path.endsWith('.test.ts');

test('every import in src/ runs down the layers', () => {
  const upward: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    if (isTest(from)) continue;
    const source = layerOf(from);
    for (const to of localImports(file)) {
      const target = layerOf(to);
      if (target.group !== source.group && target.rank >= source.rank) upward.push(`src/${from} (${source.group}) -> src/${to} (${target.group})`);
    }
  }
  assert.deepEqual(upward.sort(), KNOWN_UPWARD);
});

test('outside src/hub/, code uses only the hub facade and its value types', () => {
  const reachingIn: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    if (from.startsWith('hub/')) continue;
    for (const to of localImports(file)) {
      if (to.startsWith('hub/') && !HUB_PUBLIC_MODULES.includes(to)) reachingIn.push(`src/${from} imports src/${to}`);
    }
  }
  assert.deepEqual(reachingIn.sort(), KNOWN_HUB_IMPORTS);
});

test('outside src/hub/, nothing reads hub.options, hub.dispatcher or hub.registry', () => {
  const uses: string[] = [];
  for (const file of [...sourceFiles(SRC), ...sourceFiles(resolve('test')), ...sourceFiles(resolve('bench'))]) {
    const path = relative(process.cwd(), file);
    if (path.startsWith(join('src', 'hub')) || path === join('test', 'layering.test.ts')) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (HUB_INTERNAL_FIELD.test(line)) uses.push(path);
        void i;
      });
  }
  assert.deepEqual([...new Set(uses)].sort(), KNOWN_HUB_FIELD_FILES);
});

test('the layering check itself sees an upward import', () => {
  // Guards against a check that silently passes: a hub file importing http/ must be caught.
  const probe = join(SRC, 'hub', 'hub.ts');
  const imports = localImports(probe);
  assert.ok(imports.length > 0, 'src/hub/hub.ts has local imports');
  assert.ok(layerOf('http/server.ts').rank > layerOf('hub/hub.ts').rank);
  assert.ok(layerOf('hub/hub.ts').rank > layerOf('broker/types.ts').rank);
});
