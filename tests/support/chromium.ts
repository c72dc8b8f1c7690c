import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

const root = path.resolve(__dirname, '..', '..');

/**
 * The Chromium the browser tests drive: CHROMIUM_PATH when set (Debian's /usr/bin/chromium, say), otherwise the
 * binary shipped inside @sparticuz/chromium's npm package, so a fresh clone needs no download. Unpacked here rather
 * than with the package's executablePath(), which writes into /tmp non-atomically and races between test files:
 * brotli into a temporary file, then a rename, which is atomic; a second file finds it ready.
 */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  const pkg = path.join(root, 'node_modules', '@sparticuz', 'chromium');
  const { version } = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string };
  const dir = path.join(root, 'node_modules', '.cache', 'sparticuz-chromium', version);
  const binary = path.join(dir, 'chromium');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const partial = path.join(dir, `.chromium.${process.pid}.${randomUUID()}.tmp`);
  writeFileSync(partial, brotliDecompressSync(readFileSync(path.join(pkg, 'bin', 'chromium.br'))), { mode: 0o755 });
  renameSync(partial, binary);
  return binary;
}
