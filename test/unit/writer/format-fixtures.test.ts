// Every fixture stream (real messages from PSI's Python sender) written through SwissFelFile,
// then read back with h5py and through our own layer, and compared dataset by dataset with what
// the layout (§8.1, §8.2) says the fixture's expected values must give — for each way of
// storing bitshuffle_lz4 arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BsreadReceiver, TYPES, type BsreadMessage, type ChannelDef } from '../../../src/bsread/index.js';
import { H5File } from '../../../src/h5/index.js';
import { SwissFelFile, type SwissFelFileOptions } from '../../../src/writer/swissfel-file.js';
import { dataKind, dataRowShape, rowBytesOf } from '../../../src/writer/layout.js';
import { fixtureFiles, loadFixture, type FixtureValue } from '../../helpers/fixtures.js';
import { h5py } from '../../helpers/h5py.js';
import { tempDir } from './format-util.js';

interface DumpedDataset {
  dtype: string;
  shape: number[];
  value: unknown;
  hex: string | null;
  chunks: number[] | null;
  filters: number[];
}

/** Every dataset of the file with dtype, shape, values (NaN as "NaN"), raw LE bytes and filters. */
const DUMP = `
f = h5py.File(path, 'r')
out = {}
def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
        plist = obj.id.get_create_plist()
        filters = [plist.get_filter(k)[0] for k in range(plist.get_nfilters())]
        v = obj[()]
        if obj.dtype.kind == 'O' or obj.dtype.kind == 'S':
            value = v.tolist() if isinstance(v, np.ndarray) else v
            hexv = None
        else:
            value = v.tolist()
            hexv = np.ascontiguousarray(v).astype(v.dtype.newbyteorder('<')).tobytes().hex()
        out[name] = {'dtype': str(obj.dtype), 'shape': list(obj.shape), 'value': value, 'hex': hexv,
                     'chunks': list(obj.chunks) if obj.chunks else None, 'filters': filters}
f.visititems(visit)
result = {'datasets': out, 'root_keys': list(f.keys())}
`;

interface Incarnation {
  def: ChannelDef;
  /** Row values as h5py's tolist() gives them, and the LE bytes of each row. */
  values: unknown[];
  bytes: Buffer[];
}

interface ExpectedChannel {
  pulseIds: number[];
  present: number[];
  incarnations: Incarnation[];
}

function nest(values: (number | string)[], shape: number[]): unknown {
  if (shape.length <= 1) return values;
  const step = values.length / shape[0]!;
  const out: unknown[] = [];
  for (let k = 0; k < shape[0]!; k++) out.push(nest(values.slice(k * step, (k + 1) * step), shape.slice(1)));
  return out;
}

function zeros(shape: number[]): unknown {
  if (shape.length === 0) return 0;
  return Array.from({ length: shape[0]! }, () => zeros(shape.slice(1)));
}

function rowValue(def: ChannelDef, v: FixtureValue): unknown {
  if (def.type === 'string') return v;
  if (typeof v === 'number' || typeof v === 'string') return [v]; // scalar: (N, 1)
  if (v === null) throw new Error('unreachable');
  return nest(v.values, v.shape);
}

/** 0/1 (nested in rows) as false/true. */
function asBools(v: unknown): unknown {
  return Array.isArray(v) ? v.map(asBools) : v !== 0;
}

/** What the file must hold, from the fixture's expected values and the data headers. */
function expectedFile(messages: BsreadMessage[], expected: { channels: Record<string, { value: FixtureValue }> }[]): Map<string, ExpectedChannel> {
  const out = new Map<string, ExpectedChannel>();
  messages.forEach((msg, row) => {
    for (let i = 0; i < msg.channelCount; i++) {
      const def = msg.def(i);
      let ch = out.get(def.name);
      if (ch === undefined) {
        ch = { pulseIds: messages.slice(0, row).map((m) => m.pulseId), present: new Array<number>(row).fill(0), incarnations: [] };
        out.set(def.name, ch);
      }
      const v = expected[row]!.channels[def.name]!.value;
      ch.pulseIds.push(msg.pulseId); // every row carries its message's pulse id, value or not
      ch.present.push(v === null ? 0 : 1);
      let cur = ch.incarnations.at(-1);
      if (v !== null && (cur === undefined || cur.def.key !== def.key)) {
        const fill = (d: ChannelDef): unknown => (d.type === 'string' ? '' : zeros(dataRowShape(d)));
        cur = {
          def,
          values: Array.from({ length: row }, () => fill(def)),
          bytes: Array.from({ length: row }, () => Buffer.alloc(def.type === 'string' ? 0 : rowBytesOf(def))),
        };
        ch.incarnations.push(cur);
      }
      if (cur !== undefined) {
        if (v === null) {
          cur.values.push(cur.def.type === 'string' ? '' : zeros(dataRowShape(cur.def)));
          cur.bytes.push(Buffer.alloc(cur.def.type === 'string' ? 0 : rowBytesOf(cur.def)));
        } else {
          cur.values.push(rowValue(def, v));
          cur.bytes.push(Buffer.from(msg.bytes(i)!));
        }
      }
    }
  });
  return out;
}

const STORAGES: { label: string; opts: Partial<SwissFelFileOptions> }[] = [
  { label: 'direct chunks (every bitshuffle channel)', opts: { bitshuffle: 'direct', directMinRowBytes: 0 } },
  { label: 'default options', opts: {} },
  { label: 'decompressed', opts: { bitshuffle: 'decompress' } },
];

for (const file of fixtureFiles()) {
  for (const storage of STORAGES) {
    test(`fixture ${file}, ${storage.label}: h5py and our layer read exactly the expected layout`, async () => {
      const fx = loadFixture(file);
      const r = new BsreadReceiver();
      const messages = fx.messages.map((m) => r.open(m.frames) as BsreadMessage);
      const path = join(tempDir(), `${file}.h5`);
      const f = SwissFelFile.create({ path, ...storage.opts });
      for (const m of messages) assert.deepEqual(f.write(m), { channelErrors: 0 });
      f.close();
      assert.equal(f.rows, messages.length);
      assert.equal(f.firstPulseId, messages[0]!.pulseId);
      assert.equal(f.lastPulseId, messages.at(-1)!.pulseId);

      const want = expectedFile(
        messages,
        fx.messages.map((m) => m.expected),
      );
      const n = messages.length;
      const dump = await h5py<{ datasets: Record<string, DumpedDataset>; root_keys: string[] }>(path, DUMP);
      const ours = H5File.openReadOnly(path);
      try {
        assert.deepEqual(dump.root_keys, ['data', 'general']);
        for (const k of ['created', 'user', 'process', 'instrument']) {
          assert.equal(dump.datasets[`general/${k}`]!.value, 'not given');
          assert.equal(dump.datasets[`general/${k}`]!.dtype, '|S9');
        }
        const names = new Set<string>();
        for (const [name, ch] of want) {
          const g = `data/${name}`;
          const label = `${file} ${name}`;
          names.add(`${g}/pulse_id`).add(`${g}/is_data_present`);
          const pid = dump.datasets[`${g}/pulse_id`]!;
          assert.deepEqual([pid.dtype, pid.shape, pid.value], ['int64', [n], ch.pulseIds], `${label} pulse_id`);
          const idp = dump.datasets[`${g}/is_data_present`]!;
          assert.deepEqual([idp.dtype, idp.shape, idp.value], ['uint8', [n], ch.present], `${label} is_data_present`);
          ch.incarnations.forEach((inc, k) => {
            const last = k === ch.incarnations.length - 1;
            const dsPath = last ? `${g}/data` : `${g}/data(${k + 1})`;
            names.add(dsPath);
            const got = dump.datasets[dsPath];
            assert.ok(got !== undefined, `${label}: ${dsPath} missing`);
            const rows = inc.values.length;
            if (inc.def.type === 'string') {
              assert.deepEqual([got.dtype, got.shape, got.value], ['object', [rows], inc.values], `${label} ${dsPath}`);
              const o = ours.read(`/${dsPath}`);
              assert.deepEqual([o.type, o.shape, o.data], ['vlen_string', [rows], inc.values]);
              return;
            }
            const rowShape = dataRowShape(inc.def);
            const dtype = TYPES[inc.def.type].numpy;
            assert.deepEqual([got.dtype, got.shape], [dtype, [rows, ...rowShape]], `${label} ${dsPath} dtype/shape`);
            // Values compared with Object.is semantics: NaN ("NaN"), -0.0 and infinities exactly.
            // bool is h5py's boolean (numpy bool), as in the original's files.
            const want = inc.def.type === 'bool' ? asBools(inc.values) : inc.values;
            assert.deepStrictEqual(got.value, want, `${label} ${dsPath} values`);
            const bytes = Buffer.concat(inc.bytes);
            assert.equal(got.hex, bytes.toString('hex'), `${label} ${dsPath} bytes (bit-exact)`);
            const kind = dataKind(inc.def, { bitshuffle: storage.opts.bitshuffle ?? 'direct', directMinRowBytes: storage.opts.directMinRowBytes ?? 32 * 1024 });
            if (kind === 'bitshuffle-direct') {
              assert.deepEqual([got.filters, got.chunks], [[32008], [1, ...rowShape]], `${label} ${dsPath} stored as compressed chunks`);
            } else {
              assert.deepEqual(got.filters, [], `${label} ${dsPath} stored plain`);
            }
            const o = ours.read(`/${dsPath}`);
            assert.deepEqual([o.type, o.shape], [dtype, [rows, ...rowShape]]);
            assert.ok(Buffer.from(o.data as Buffer).equals(bytes), `${label} ${dsPath}: our layer reads the same bytes`);
          });
        }
        // Nothing else under /data (e.g. no data for a channel that was never present).
        const extra = Object.keys(dump.datasets).filter((k) => k.startsWith('data/') && !names.has(k));
        assert.deepEqual(extra, []);
      } finally {
        ours.close();
      }
    });
  }
}

test('fixture missing-and-change: the never-present channel has no data, the type change gives data(1)', async () => {
  const fx = loadFixture('missing-and-change');
  const r = new BsreadReceiver();
  const path = join(tempDir(), 'mc.h5');
  const f = SwissFelFile.create({ path });
  for (const m of fx.messages) f.write(r.open(m.frames) as BsreadMessage);
  f.close();
  const keys = await h5py<Record<string, string[]>>(
    path,
    `
f = h5py.File(path, 'r')
result = {k: sorted(f['data'][k].keys()) for k in f['data']}
`,
  );
  assert.deepEqual(keys['MC:NEVER'], ['is_data_present', 'pulse_id']);
  assert.deepEqual(keys['MC:CHANGING'], ['data', 'data(1)', 'is_data_present', 'pulse_id']);
  assert.deepEqual(keys['MC:WF-THEN-MISSING'], ['data', 'is_data_present', 'pulse_id']);
});
