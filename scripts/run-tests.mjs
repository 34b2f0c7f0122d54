// The test command CI runs. Without filters it first runs the guard rails: the linter, a type-check of
// every tsconfig, and the layering test; then every *.test.ts under src/, test/, bench/ and packages/ with Node's
// own test runner (tsx loads TypeScript). Node 20's --test has no glob support, so the files are listed here.
// Usage: npm test [-- substring ...]  (only files whose path contains one of the substrings, no guard rails)
//        npm run check                (only the guard rails)
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const TSCONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'web/tsconfig.json', 'packages/client/tsconfig.json'];
const LINTED = ['src', 'test', 'bench', 'scripts', 'web/src', 'packages/client/src', 'packages/client/test'];
const LAYERING_TEST = join('test', 'layering.test.ts');
const bin = (name) => join('node_modules', '.bin', name);

const args = process.argv.slice(2);
const checksOnly = args.includes('--checks-only');
const filters = args.filter((a) => a !== '--checks-only');

function step(label, command, commandArgs) {
  const started = Date.now();
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`\n${label}: failed`);
    process.exit(result.status ?? 1);
  }
  console.log(`${label}: ok (${Date.now() - started} ms)`);
}

function runTests(files) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=120000', ...files],
    { stdio: 'inherit' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (filters.length === 0) {
  step('lint', bin('oxlint'), ['--deny-warnings', ...LINTED]);
  for (const tsconfig of TSCONFIGS) step(`typecheck ${tsconfig}`, bin('tsc'), ['-p', tsconfig, '--noEmit']);
  runTests([LAYERING_TEST]);
  console.log('layering: ok');
  if (checksOnly) process.exit(0);
}

const roots = ['src', 'test', 'bench', 'packages'].filter((r) => existsSync(r));
const files = roots
  .flatMap((root) => readdirSync(root, { recursive: true }).map((f) => join(root, String(f))))
  .filter((f) => f.endsWith('.test.ts') && !f.split(/[\\/]/).includes('node_modules'))
  .filter((f) => (filters.length === 0 ? f !== LAYERING_TEST : filters.some((s) => f.includes(s))))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
runTests(files);
