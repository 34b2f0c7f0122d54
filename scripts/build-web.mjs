// Builds the chat page into web/dist: web/src/main.ts bundled by esbuild into app.js,
// with index.html, styles.css and the icon copied beside it. Run by `npm run build` (and so by
// `npm install` and `npm start`). `--watch` rebuilds on change while developing.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const out = join(web, 'dist');

const options = {
  entryPoints: [join(web, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome109', 'firefox115', 'safari15.4'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
};

async function copyStatic() {
  await mkdir(out, { recursive: true });
  await Promise.all(['index.html', 'styles.css', 'favicon.svg'].map((file) => copyFile(join(web, file), join(out, file))));
}

if (process.argv.includes('--watch')) {
  await copyStatic();
  const context = await esbuild.context({ ...options, plugins: [{ name: 'copy-static', setup: (build) => build.onEnd(copyStatic) }] });
  await context.watch();
  process.stdout.write('watching web/ for changes\n');
} else {
  await copyStatic();
  const result = await esbuild.build({ ...options, metafile: true });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  process.stdout.write(`web/dist built (${Math.round(bytes / 1024)} KiB with source map)\n`);
}
