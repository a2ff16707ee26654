// SwissFelFile under bad input and failures (review findings): one bad channel never stops the
// recording, never shifts rows against pulse_id, never makes the file unreadable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BsreadReceiver, encodeMessage, type BsreadMessage } from '../../../src/bsread/index.js';
import { H5Error } from '../../../src/errors.js';
import { H5File } from '../../../src/h5/index.js';
import { SwissFelFile } from '../../../src/writer/swissfel-file.js';
import { tempDir } from './format-util.js';

interface RawChannel {
  hdr: Record<string, unknown>;
  value: Uint8Array;
}

const receiver = new BsreadReceiver();

/** A message from hand-made frames: any header (lying shapes...), any value bytes. */
function raw(pulseId: number, chans: RawChannel[]): BsreadMessage {
  const dh = Buffer.from(JSON.stringify({ htype: 'bsr_d-1.1', channels: chans.map((c) => c.hdr) }));
  const hash = createHash('md5').update(dh).digest('hex');
  const main = Buffer.from(JSON.stringify({ htype: 'bsr_m-1.1', hash, pulse_id: pulseId, global_timestamp: { sec: 1700000000, ns: 0 } }));
  const frames: Uint8Array[] = [main, dh];
  for (const c of chans) frames.push(c.value, c.value.length > 0 ? Buffer.alloc(16) : Buffer.alloc(0));
  const m = receiver.open(frames);
  if (m.kind !== 'data') throw new Error('not a data message');
  return m;
}

function f64(x: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b;
}

const scalar = (name: string, p: number): RawChannel => ({ hdr: { name, type: 'float64' }, value: f64(p) });

/** Reads datasets of a closed file: float64/int64/uint8 as number arrays, strings as strings. */
function readBack(path: string, fn: (f: H5File) => void): void {
  const f = H5File.openReadOnly(path);
  try {
    fn(f);
  } finally {
    f.close();
  }
}

function numbers(f: H5File, path: string): number[] {
  const d = f.read(path);
  const b = d.data as Buffer;
  if (d.type === 'float64') return Array.from(new Float64Array(b.buffer, b.byteOffset, b.length / 8));
  if (d.type === 'int64') return Array.from(new BigInt64Array(b.buffer, b.byteOffset, b.length / 8), Number);
  if (d.type === 'uint8') return Array.from(b);
  throw new Error(`unexpected type ${d.type} at ${path}`);
}

/** Every channel's pulse_id holds the message pulse ids (value or not); is_data_present says which had a value. */
function assertAligned(f: H5File, channel: string, pulseIds: number[], present: boolean[]): void {
  assert.deepEqual(numbers(f, `/data/${channel}/pulse_id`), pulseIds, `${channel}/pulse_id`);
  assert.deepEqual(
    numbers(f, `/data/${channel}/is_data_present`),
    present.map((p) => (p ? 1 : 0)),
    `${channel}/is_data_present`,
  );
}

test('finding 1: a definition the h5 layer refuses (31 dims, rows over 1 TiB) is bad_field; the recording goes on', () => {
  const path = join(tempDir(), 'rank.h5');
  const f = SwissFelFile.create({ path });
  const results = [
    f.write(raw(1, [scalar('good', 1), scalar('odd', 1)])),
    // 31 dimensions: the decoder accepts it, a plain dataset's chunk shape cannot have 32 entries.
    f.write(raw(2, [scalar('good', 2), { hdr: { name: 'odd', type: 'float64', shape: Array(31).fill(1) }, value: f64(2) }])),
    // A row of 2^50 bytes: the h5 layer refuses rows over 1 TiB.
    f.write(raw(3, [scalar('good', 3), { hdr: { name: 'odd', type: 'uint8', shape: [2 ** 30, 2 ** 20] }, value: f64(3) }])),
    f.write(raw(4, [scalar('good', 4), scalar('odd', 4)])),
    f.write(raw(5, [scalar('good', 5), { hdr: { name: 'new', type: 'uint8', shape: [2 ** 30, 2 ** 20] }, value: f64(5) }])),
    f.write(raw(6, [scalar('good', 6), scalar('odd', 6), scalar('new', 6)])),
  ];
  assert.deepEqual(
    results.map((r) => r.channelErrors),
    [0, 1, 1, 0, 1, 0],
  );
  assert.deepEqual(f.channelErrorCounts(), { bad_field: 3 });
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(numbers(h, '/data/good/data'), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(numbers(h, '/data/odd/data'), [1, 0, 0, 4, 0, 6]);
    assertAligned(h, 'odd', [1, 2, 3, 4, 5, 6], [true, false, false, true, false, true]);
    assert.deepEqual(numbers(h, '/data/new/data'), [0, 0, 0, 0, 0, 6]);
    assertAligned(h, 'new', [1, 2, 3, 4, 5, 6], [false, false, false, false, false, true]);
    assert.equal(h.exists('/data/odd/data(1)'), false);
  });
});

test("finding 1: an H5Error creating one channel's new dataset is a per-channel error; the old data stays", () => {
  const path = join(tempDir(), 'h5fail.h5');
  const f = SwissFelFile.create({ path });
  f.write(raw(1, [scalar('A', 1), scalar('B', 1)]));
  const file = (f as unknown as { file: H5File }).file;
  const real = file.createNumericDataset.bind(file);
  let failing = true;
  file.createNumericDataset = (p, o) => {
    if ((failing && p.startsWith('/data/A/')) || p.startsWith('/data/C/')) throw new H5Error(`simulated failure creating ${p}`, 'H5Dcreate2');
    return real(p, o);
  };
  const int32 = (name: string, v: number): RawChannel => ({ hdr: { name, type: 'int32' }, value: Buffer.from(new Int32Array([v]).buffer) });
  // A changes its definition, but its new dataset cannot be created; C is new and cannot be created.
  assert.equal(f.write(raw(2, [int32('A', 2), scalar('B', 2), scalar('C', 2)])).channelErrors, 2);
  assert.equal(f.write(raw(3, [scalar('A', 3), scalar('B', 3), scalar('C', 3)])).channelErrors, 1);
  failing = false;
  assert.equal(f.write(raw(4, [int32('A', 4), scalar('B', 4)])).channelErrors, 0);
  assert.deepEqual(f.channelErrorCounts(), { h5_error: 3 });
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(numbers(h, '/data/B/data'), [1, 2, 3, 4]);
    assert.deepEqual(numbers(h, '/data/A/data(1)'), [1, 0, 3]);
    assertAligned(h, 'A', [1, 2, 3, 4], [true, false, true, true]);
    assert.equal(h.exists('/data/C/pulse_id'), false);
  });
});

test('finding 2: a malformed value with a new definition does not replace data (no phantom dataset, no data(k) used)', () => {
  const path = join(tempDir(), 'phantom.h5');
  const f = SwissFelFile.create({ path });
  f.write(raw(1, [scalar('x', 1)]));
  // One corrupt message: the header claims a 100000 x 100000 float64 image, the value has 8 bytes.
  assert.equal(f.write(raw(2, [{ hdr: { name: 'x', type: 'float64', shape: [100000, 100000] }, value: f64(2) }])).channelErrors, 1);
  f.write(raw(3, [scalar('x', 3)]));
  // A real change afterwards takes data(1).
  f.write(raw(4, [{ hdr: { name: 'x', type: 'float64', shape: [2] }, value: Buffer.concat([f64(4), f64(4.5)]) }]));
  assert.deepEqual(f.channelErrorCounts(), { size_mismatch: 1 });
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(h.info('/data/x/data(1)').shape, [3, 1]);
    assert.deepEqual(numbers(h, '/data/x/data(1)'), [1, 0, 3]);
    assert.deepEqual(h.info('/data/x/data').shape, [4, 2]);
    assert.deepEqual(numbers(h, '/data/x/data'), [0, 0, 0, 0, 0, 0, 4, 4.5]);
    assert.equal(h.exists('/data/x/data(2)'), false);
    assertAligned(h, 'x', [1, 2, 3, 4], [true, false, true, true]);
  });
});

test("finding 3: names that collide with another channel's group or its members are bad_channel_name", () => {
  const path = join(tempDir(), 'names.h5');
  const f = SwissFelFile.create({ path });
  const names = ['SAR-CVME:TIME', 'CAM', 'CAM/data', 'CAM/pulse_id', 'CAM/is_data_present', 'CAM/data(1)', 'CAM/sub', 'D/E', 'D'];
  for (let p = 1; p <= 3; p++) {
    assert.deepEqual(
      f.write(
        raw(
          p,
          names.map((n) => scalar(n, p)),
        ),
      ),
      { channelErrors: 6 },
    );
  }
  assert.deepEqual(f.channelErrorCounts(), { bad_channel_name: 18 });
  f.close();
  readBack(path, (h) => {
    for (const n of ['SAR-CVME:TIME', 'CAM', 'D/E']) {
      assert.deepEqual(numbers(h, `/data/${n}/data`), [1, 2, 3], n);
      assertAligned(h, n, [1, 2, 3], [true, true, true]);
    }
    assert.equal(h.exists('/data/CAM/sub'), false);
    assert.equal(h.exists('/data/D/pulse_id'), false);
  });
});

test("finding 5: close() writes every other channel's buffered rows when one channel fails, and closes the file", () => {
  const path = join(tempDir(), 'close.h5');
  const f = SwissFelFile.create({ path });
  for (let p = 1; p <= 50; p++) f.write(raw(p, [scalar('A', p), scalar('B', p), scalar('C', p)]));
  const channels = (f as unknown as { channels: Map<string, { flush(): void }> }).channels;
  channels.get('A')!.flush = () => {
    throw new Error('simulated H5Dwrite failure on A');
  };
  assert.throws(() => f.close(), /simulated H5Dwrite failure on A/);
  const expected = Array.from({ length: 50 }, (_, k) => k + 1);
  readBack(path, (h) => {
    for (const n of ['B', 'C']) {
      assert.deepEqual(numbers(h, `/data/${n}/data`), expected, n);
      assertAligned(
        h,
        n,
        expected,
        expected.map(() => true),
      );
    }
  });
});

test('finding 6: a large-array flush that fails midway does not write its first rows twice', () => {
  const path = join(tempDir(), 'rowrefs.h5');
  const f = SwissFelFile.create({ path });
  const wf = (p: number): RawChannel => ({ hdr: { name: 'WF', type: 'float64', shape: [8192] }, value: Buffer.from(new Float64Array(8192).fill(p).buffer) });
  f.write(raw(1, [wf(1)])); // 64 KiB rows: appended one row per call
  const channels = (f as unknown as { channels: Map<string, { data: { ds: { append(d: ArrayBufferView, n?: number): number } } }> }).channels;
  const ds = channels.get('WF')!.data.ds;
  const real = ds.append.bind(ds);
  let calls = 0;
  ds.append = (d, n) => {
    calls++;
    if (calls === 1 || calls === 3) throw new H5Error(`simulated transient failure #${calls}`, 'H5Dwrite');
    return real(d, n);
  };
  for (let p = 2; p <= 5; p++) {
    try {
      f.write(raw(p, [wf(p)]));
    } catch (e) {
      assert.ok(e instanceof H5Error); // a failed append is file-level: thrown, the row kept and retried
    }
  }
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(h.info('/data/WF/data').shape, [5, 8192]);
    const d = numbers(h, '/data/WF/data');
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((r) => d[r * 8192]),
      [1, 2, 3, 4, 5],
    );
    assertAligned(h, 'WF', [1, 2, 3, 4, 5], [true, true, true, true, true]);
  });
});

test('finding 4: a corrupt bitshuffle frame is not stored as a direct chunk: decompress error, written as missing', () => {
  const path = join(tempDir(), 'direct.h5');
  const f = SwissFelFile.create({ path }); // bitshuffle 'direct' is the default
  const img = (p: number) => Uint16Array.from({ length: 128 * 128 }, (_, k) => (k + p) & 0xffff);
  for (let p = 1; p <= 5; p++) {
    const frames = encodeMessage({
      pulseId: p,
      globalTimestamp: { sec: 1, ns: 0 },
      channels: [{ def: { name: 'CAM', type: 'uint16', shape: [128, 128], compression: 'bitshuffle_lz4' }, value: { shape: [128, 128], data: img(p) } }],
    });
    if (p === 3) {
      const v = Buffer.from(frames[2]!); // corrupt the first LZ4 block, keep the header
      for (let k = 20; k < 60; k++) v[k]! ^= 0xff;
      frames[2] = v;
    }
    const m = receiver.open(frames) as BsreadMessage;
    assert.equal(f.write(m).channelErrors, p === 3 ? 1 : 0);
  }
  assert.deepEqual(f.channelErrorCounts(), { decompress: 1 });
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(
      h.filters('/data/CAM/data').map((x) => x.id),
      [32008],
    );
    const d = h.read('/data/CAM/data').data as Buffer; // readable through the filter: every chunk is valid
    const row = 128 * 128 * 2;
    for (let p = 1; p <= 5; p++) {
      const want = p === 3 ? Buffer.alloc(row) : Buffer.from(img(p).buffer);
      assert.ok(d.subarray((p - 1) * row, p * row).equals(want), `row ${p}`);
    }
    assertAligned(h, 'CAM', [1, 2, 3, 4, 5], [true, true, false, true, true]);
  });
});

test('finding 7: a string channel whose shape is its byte length is one definition (no data(k), no too_many_changes)', () => {
  const path = join(tempDir(), 'strshape.h5');
  const f = SwissFelFile.create({ path });
  const texts: string[] = [];
  for (let p = 1; p <= 120; p++) {
    const s = 'status ' + 'x'.repeat(p % 7) + p;
    texts.push(s);
    const b = Buffer.from(s);
    assert.equal(f.write(raw(p, [{ hdr: { name: 'MSG', type: 'string', shape: [b.length] }, value: b }])).channelErrors, 0);
  }
  assert.deepEqual(f.channelErrorCounts(), {});
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(h.read('/data/MSG/data').data, texts);
    assert.equal(h.exists('/data/MSG/data(1)'), false);
  });
});

test('finding 8: strings are stored unaltered or counted: invalid UTF-8 and embedded NULs are bad_field', () => {
  const path = join(tempDir(), 'strings.h5');
  const f = SwissFelFile.create({ path });
  const vals = [Buffer.from('ok'), Buffer.from('abc\0def'), Buffer.from([0x61, 0xff, 0xfe, 0x62]), Buffer.from('pad\0\0\0')];
  vals.forEach((v, k) => f.write(raw(k + 1, [{ hdr: { name: 'S', type: 'string' }, value: v }])));
  assert.deepEqual(f.channelErrorCounts(), { bad_field: 2 });
  f.close();
  readBack(path, (h) => {
    assert.deepEqual(h.read('/data/S/data').data, ['ok', '', '', 'pad']);
    assertAligned(h, 'S', [1, 2, 3, 4], [true, false, false, true]);
  });
});
