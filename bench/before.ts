// `--before REV`: builds an earlier commit of Herald beside this checkout, so that
// one bench run measures before and after on the same machine in the same minutes
// (target `herald@REV`). The tree comes from `git archive` (the repository and its
// worktrees are left alone) into a fresh directory under the OS temp dir, shares
// this checkout's node_modules and built chat page, and is compiled with tsc.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface EarlierBuild {
  readonly name: string;
  readonly cli: string;
  remove(): void;
}

/** The build, or why it could not be made. */
export function buildEarlier(rev: string): EarlierBuild | string {
  const resolved = spawnSync('git', ['rev-parse', '--short', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' });
  if (resolved.status !== 0) return `--before ${rev}: not a commit (${resolved.stderr.trim()})`;
  const short = resolved.stdout.trim();
  const dir = mkdtempSync(join(tmpdir(), `herald-before-${short}-`));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  const archive = spawnSync('sh', ['-c', `git archive --format=tar ${short} | tar -x -C "${dir}"`], { cwd: ROOT, encoding: 'utf8' });
  if (archive.status !== 0) {
    remove();
    return `--before ${rev}: git archive failed (${archive.stderr.trim()})`;
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (existsSync(join(ROOT, 'web/dist'))) cpSync(join(ROOT, 'web/dist'), join(dir, 'web/dist'), { recursive: true });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  const cli = join(dir, 'dist/cli.js');
  if (!existsSync(cli)) {
    remove();
    return `--before ${rev}: build failed (${(tsc.stdout + tsc.stderr).slice(0, 300)})`;
  }
  return { name: `herald@${short}`, cli, remove };
}
