// Disk space held back for closing the file. When the disk fills up during an acquisition,
// libhdf5 cannot write the metadata that makes the file readable (superblock, chunk indexes,
// dataset extents), and after one failed flush its metadata cache is unusable: the file of a
// full disk was unreadable, rows already accepted with it. A file beside the output holds some
// space from the start (allocated with posix_fallocate, not written); the writer stops when less
// than that is free, and deleting the reserve then gives libhdf5 the room to close the file.
import { readdirSync, statfsSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { nativeAddon } from '../native/surface.js';

/**
 * Default size: more than a second of buffered rows at SwissFEL scale (10,000 scalars at 100 Hz
 * with pulse_id and is_data_present: ~17 MB) plus the file's metadata.
 */
export const DEFAULT_RESERVE_BYTES = 64 * 1024 * 1024;
/** Never more than this share of the free space. */
const MAX_FREE_SHARE = 0.25;
/** The reserve's size is a multiple of this. */
const BLOCK_BYTES = 64 * 1024;

export class SpaceReserve {
  private released = false;

  private constructor(
    /** The reserve file: `.<output name>.reserve-<pid>` beside the output. */
    readonly path: string,
    readonly bytes: number,
  ) {}

  /**
   * Allocates the reserve for `outputPath`: `bytes`, or a quarter of the free space if that is
   * less. Returns null when no reserve can be made (no space, a read-only folder): the file is
   * written all the same, without this safety margin. The reserve is deleted by release() and,
   * should the process end without it (GET /kill, an uncaught error), when it exits; one left by
   * a process that was killed is deleted by the next reserve for the same output.
   */
  static create(outputPath: string, bytes = DEFAULT_RESERVE_BYTES): SpaceReserve | null {
    if (!(bytes > 0)) return null;
    const dir = dirname(outputPath);
    const prefix = `.${basename(outputPath)}.reserve-`;
    removeStale(dir, prefix);
    const path = join(dir, `${prefix}${process.pid}`);
    let size = bytes;
    try {
      const fs = statfsSync(dir);
      size = Math.min(size, Math.floor(fs.bavail * fs.bsize * MAX_FREE_SHARE));
    } catch {
      return null;
    }
    size -= size % BLOCK_BYTES;
    if (size <= 0) return null;
    try {
      nativeAddon().allocateFile(path, size);
    } catch {
      return null; // no access or no room
    }
    const reserve = new SpaceReserve(path, size);
    live.add(reserve);
    if (live.size === 1 && !exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const r of live) r.release();
      });
    }
    return reserve;
  }

  /**
   * Bytes free for this process on the reserve's file system now, or null when unknown. The
   * file holds back as much as the reserve: once less than that is free, stop writing and
   * close while the reserve still guarantees room for it.
   */
  freeBytes(): number | null {
    try {
      const fs = statfsSync(dirname(this.path));
      return fs.bavail * fs.bsize;
    } catch {
      return null;
    }
  }

  /** Deletes the reserve (gives its space back); true the first time. Never throws. */
  release(): boolean {
    if (this.released) return false;
    this.released = true;
    live.delete(this);
    unlinkQuietly(this.path);
    return true;
  }
}

/** Reserves not yet released, deleted when the process exits. */
const live = new Set<SpaceReserve>();
let exitHookInstalled = false;

/** Deletes reserves for the same output whose process is gone (it was killed before it could). */
function removeStale(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) unlinkQuietly(join(dir, name));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}
