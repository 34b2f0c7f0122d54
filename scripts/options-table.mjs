// Rewrites the README's configuration table from src/config.ts (npm run docs:options).
import { readFileSync, writeFileSync } from 'node:fs';
import { optionsMarkdown } from '../src/config.ts';

const readme = readFileSync('README.md', 'utf8');
const updated = readme.replace(/<!-- options:start -->[\s\S]*<!-- options:end -->/, `<!-- options:start -->\n${optionsMarkdown()}\n<!-- options:end -->`);
writeFileSync('README.md', updated);
process.stdout.write(updated === readme ? 'README options table already up to date\n' : 'README options table updated\n');
