// The browser build: bundled and minified it pulls in nothing outside this package
// (zero runtime dependencies) and stays under 5 KB gzipped (the size is printed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

test('the browser bundle has no dependency and is under 5 KB min+gzip', async () => {
  const result = await esbuild.build({
    entryPoints: [`${SRC}index.ts`],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(SRC, fileURLToPath(new URL(p, `file://${process.cwd()}/`))));
  assert.deepEqual(inputs.filter((p) => p.startsWith('..')), []);
  const code = result.outputFiles[0]!.contents;
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(`@herald/client browser bundle: ${code.length} B minified, ${gzipped} B min+gzip`);
  assert.ok(gzipped < 5 * 1024, `${gzipped} B`);
});
