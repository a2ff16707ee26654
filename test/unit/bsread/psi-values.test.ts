// Values as PSI's own sender (bsread_python) puts them on the wire, where the protocol text alone
// would mislead: "" compressed is a non-empty frame that declares 0 bytes, and it is a value;
// bool arrays decode with numpy's dtype name "bool".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMessageJson, messageToJson } from '../../../src/bsread/index.js';
import { GT, message, openData, ts } from './util.js';

// PSI's sender, for "": bitshuffle_lz4 = total 0 (int64 BE) + block size 8192 (int32 BE), no
// blocks; lz4 = the 4-byte size prefix 0, no block.
const EMPTY = {
  bitshuffle_lz4: Buffer.from('000000000000000000002000', 'hex'),
  lz4: Buffer.from('00000000', 'hex'),
} as const;

for (const [compression, frame] of Object.entries(EMPTY)) {
  test(`a ${compression} empty string (${frame.length}-byte frame) is present: value "" with its timestamp`, () => {
    const m = openData(message([{ name: 'S', type: 'string', compression }], [frame, ts(GT.sec, 42)]));
    assert.equal(m.isPresent(0), true);
    assert.equal(m.value(0), '');
    assert.deepEqual(m.timestamp(0), { sec: GT.sec, ns: 42 });
    assert.deepEqual(messageToJson(m).channels['S'], { value: '', timestamp: [GT.sec, 42] });
    assert.match(formatMessageJson(m), /"S": \{"value": "", "timestamp": \[1700000000, 42\]/);
  });
}

test('an empty frame is still a missing value, for strings and numbers, compressed or not', () => {
  for (const compression of ['none', 'bitshuffle_lz4', 'lz4']) {
    for (const type of ['string', 'float64']) {
      const m = openData(message([{ name: 'X', type, compression }], [Buffer.alloc(0), Buffer.alloc(0)]));
      assert.equal(m.isPresent(0), false, `${type} ${compression}`);
      assert.equal(m.value(0), null);
    }
  }
});

test('a compressed numeric frame that declares 0 bytes stays missing (§4.3)', () => {
  const m = openData(message([{ name: 'X', type: 'float64', compression: 'bitshuffle_lz4' }], [EMPTY.bitshuffle_lz4, ts()]));
  assert.equal(m.isPresent(0), false);
  assert.equal(m.value(0), null);
});

test('bool arrays print dtype "bool" in the JSON form (as PSI\'s decoder names them); bool scalars print 0/1', () => {
  const m = openData(
    message(
      [
        { name: 'B', type: 'bool', shape: [4] },
        { name: 'b', type: 'bool', shape: [1] },
      ],
      [Buffer.from([1, 0, 0, 1]), ts(), Buffer.from([1]), ts()],
    ),
  );
  const line = formatMessageJson(m);
  assert.match(line, /"B": \{"value": \{"dtype": "bool", "shape": \[4\], "values": \[1, 0, 0, 1\]\}/);
  assert.match(line, /"b": \{"value": 1,/);
});
