// Shared bits of the SwissFEL format tests: temp folders, messages built with our encoder and
// opened by our receiver, a file written from a list of messages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { BsreadReceiver, encodeMessage, type BsreadMessage, type ChannelDefInput, type ValueInput } from '../../../src/bsread/index.js';
import { SwissFelFile, type SwissFelFileOptions } from '../../../src/writer/swissfel-file.js';
import { h5py } from '../../helpers/h5py.js';

/** A fresh temporary folder, removed when the test file finishes. */
export function tempDir(prefix = 'sf-bsread-format-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Ch {
  def: ChannelDefInput;
  value: ValueInput | null;
}

const receiver = new BsreadReceiver();

/** One message through our encoder and receiver. */
export function message(pulseId: number, channels: Ch[]): BsreadMessage {
  const frames = encodeMessage({ pulseId, globalTimestamp: { sec: 1700000000 + pulseId, ns: 0 }, channels });
  const m = receiver.open(frames);
  if (m.kind !== 'data') throw new Error('not a data message');
  return m;
}

/** Writes the messages into a new file at `path` and closes it. */
export function writeFile(path: string, messages: BsreadMessage[], opts: Partial<SwissFelFileOptions> = {}): SwissFelFile {
  const f = SwissFelFile.create({ path, ...opts });
  try {
    for (const m of messages) f.write(m);
  } finally {
    f.close();
  }
  return f;
}

/**
 * Every dataset of the file (h5py), by path: its dtype, shape and `value`, which is the Python
 * expression `valueOf` of `v = obj[()]` (the values as lists, or their raw bytes, ...).
 */
export function dumpDatasets<V = unknown>(path: string, valueOf: string): Promise<Record<string, { dtype: string; shape: number[]; value: V }>> {
  return h5py(
    path,
    `
f = h5py.File(path, 'r')
out = {}
def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
        v = obj[()]
        out[name] = {'dtype': str(obj.dtype), 'shape': list(obj.shape), 'value': ${valueOf}}
f.visititems(visit)
result = out
`,
  );
}
