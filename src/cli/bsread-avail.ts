// `bsread avail`: the channels the dispatcher has live (GET {base_url}/channels/live), as
// bsread_python's `bs avail`: names matching a regular expression, one per line; --all adds
// type, shape, modulo, offset, source (and the backend) in aligned columns.
import { Command } from 'commander';
import { DEFAULT_DISPATCHER_URL, DISPATCHER_URL_ENV, DispatcherClient, resolveDispatcherUrl } from '../dispatcher/dispatcher-client.js';
import type { LiveChannel } from '../dispatcher/live-channels.js';
import { errorMessage } from '../errors.js';
import { UsageError } from './option-parsers.js';

interface AvailOptions {
  all: boolean;
  base_url?: string;
}

/**
 * The pattern as a JavaScript regular expression, searched anywhere in a name (as Python's
 * re.search, which `bs avail`'s '.*' + pattern + '.*' amounts to). A leading "(?i)" makes it
 * case-insensitive, as in Python.
 */
export function compilePattern(pattern: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const source = insensitive ? pattern.slice(4) : pattern;
  try {
    return new RegExp(source, insensitive ? 'i' : '');
  } catch (e) {
    throw new UsageError(`PATTERN "${pattern}" is not a valid regular expression: ${errorMessage(e).replace(/^Invalid regular expression: /, '')}`);
  }
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The matching names, sorted, each once (a channel may be live in several backends). */
export function availableNames(channels: readonly LiveChannel[], pattern: RegExp): string[] {
  return [...new Set(channels.filter((c) => pattern.test(c.name)).map((c) => c.name))].sort(byCodeUnits);
}

const orDash = (v: string | number | undefined): string => (v === undefined ? '-' : String(v));

/** --all: one line per matching channel and backend, sorted by name, columns aligned; absent fields are "-". */
export function availableTable(channels: readonly LiveChannel[], pattern: RegExp): string[] {
  const rows = channels
    .filter((c) => pattern.test(c.name))
    .sort((a, b) => byCodeUnits(a.name, b.name) || byCodeUnits(a.backend ?? '', b.backend ?? ''))
    .map((c) => [c.name, orDash(c.type), c.shape === undefined ? '-' : `[${c.shape.join(', ')}]`, orDash(c.modulo), orDash(c.offset), orDash(c.source), orDash(c.backend)]);
  const widths = rows.reduce<number[]>((w, r) => r.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function registerAvail(program: Command): void {
  program
    .command('avail')
    .description("list the dispatcher's live channels whose name matches PATTERN (a regular expression, found anywhere in the name)")
    .argument('[pattern]', 'regular expression; a leading (?i) ignores case (default: every channel)')
    .option('--all', 'also print type, shape, modulo, offset, source and backend', false)
    .option('--base_url <url>', `dispatcher API base URL (default: $${DISPATCHER_URL_ENV}, else ${DEFAULT_DISPATCHER_URL})`)
    .action(async (pattern: string | undefined, opts: AvailOptions) => {
      const re = compilePattern(pattern ?? '');
      const client = new DispatcherClient(resolveDispatcherUrl(opts.base_url));
      const channels = await client.liveChannels();
      const lines = opts.all ? availableTable(channels, re) : availableNames(channels, re);
      if (lines.length > 0) process.stdout.write(lines.join('\n') + '\n');
      else process.stderr.write(`bsread avail: none of the ${channels.length} live channels at ${client.baseUrl} matches "${pattern ?? ''}"\n`);
    });
}
