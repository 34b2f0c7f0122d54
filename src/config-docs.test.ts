import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { optionsMarkdown } from './config.js';

test("the README's configuration table is the option table (npm run docs:options)", () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const table = /<!-- options:start -->\n([\s\S]*)\n<!-- options:end -->/.exec(readme)?.[1];
  assert.equal(table, optionsMarkdown());
});
