// A real browser for the status pages: Debian's chromium, headless, one process per page load.
// `loadPage` returns the DOM after the page's scripts ran (its fetches answered) for
// `settleMs` of virtual time; `screenshotPage` saves a PNG to look at while building a page.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`no chromium at ${CANDIDATES.join(' or ')}: run \`node scripts/setup.mjs\` (it installs Debian's chromium) or \`apt-get install chromium\``);
  }
  return found;
}

function runChromium(args: string[], timeoutMs: number): Promise<string> {
  // A fresh profile folder per run: parallel test files never share chromium's profile lock.
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const all = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', `--user-data-dir=${profile}`, ...args];
  return new Promise<string>((resolve, reject) => {
    execFile(chromiumPath(), all, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err !== null) reject(new Error(`chromium ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

/** The page's DOM (serialized HTML) once `settleMs` of virtual time has passed after load. */
export function loadPage(url: string, settleMs = 3000, timeoutMs = 30_000): Promise<string> {
  return runChromium([`--virtual-time-budget=${settleMs}`, '--dump-dom', url], timeoutMs);
}

/** Saves a PNG of the page (for a person to look at; tests assert on loadPage's DOM). */
export async function screenshotPage(url: string, path: string, settleMs = 3000, size = '1200,900'): Promise<void> {
  await runChromium([`--virtual-time-budget=${settleMs}`, `--window-size=${size}`, `--screenshot=${path}`, url], 30_000);
}

/** The text of the first element with this id in a DOM dump (tags stripped, entities decoded). */
export function textById(dom: string, id: string): string | null {
  const open = new RegExp(`<([a-zA-Z0-9]+)[^>]*\\bid="${id}"[^>]*>`).exec(dom);
  if (open === null) return null;
  const tag = open[1]!;
  // Nested elements of the same tag are not expected inside the ids the tests read.
  const end = dom.indexOf(`</${tag}>`, open.index + open[0].length);
  const inner = dom.slice(open.index + open[0].length, end < 0 ? undefined : end);
  return inner
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .trim();
}
