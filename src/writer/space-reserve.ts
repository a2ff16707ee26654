// Disk space held back for closing the file. When the disk fills up during an acquisition,
// libhdf5 cannot write the metadata that makes the file readable (superblock, chunk indexes,
// dataset extents), and after one failed flush its metadata cache is unusable: the file of a
// full disk was unreadable, rows already accepted with it. A file beside the output holds some
// space from the start (allocated with posix_fallocate, not written); the writer stops when less
// than that is free, and deleting the reserve then gives libhdf5 the room to close the file.
import { statfsSync, unlinkSync } from 'node:fs';
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
    /** The reserve file: `.<output name>.reserve` beside the output. */
    readonly path: string,
    readonly bytes: number,
  ) {}

  /**
   * Writes the reserve for `outputPath`: `bytes`, or a quarter of the free space if that is
   * less. Returns null when no reserve can be made (no space, a read-only folder): the file is
   * written all the same, without this safety margin.
   */
  static create(outputPath: string, bytes = DEFAULT_RESERVE_BYTES): SpaceReserve | null {
    if (!(bytes > 0)) return null;
    const dir = dirname(outputPath);
    const path = join(dir, `.${basename(outputPath)}.reserve`);
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
      return null; // exists (another writer's, or left by a killed one: not ours to delete), no access or no room
    }
    return new SpaceReserve(path, size);
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
    unlinkQuietly(this.path);
    return true;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}
