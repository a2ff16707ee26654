// Python-compatible JSON text: the expected strings below were produced by CPython's json.dumps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyFloat, pyJson } from '../../../src/bsread/pyjson.js';
import { BsreadReceiver, encodeMessage, formatMessageJson, messageToJson, type BsreadMessage } from '../../../src/bsread/index.js';

test('floats print as Python repr', () => {
  // 9007199254740993.0 and 123456789012345678901234.0 round to the nearest double on purpose: the
  // expected text is what Python prints for the same literals.
  /* eslint-disable no-loss-of-precision */
  const vals = [
    1.0,
    -0.0,
    0.0,
    1e16,
    1e15,
    1e-5,
    0.0001,
    123456789.0,
    1.5e300,
    5e-324,
    9007199254740993.0,
    -1e-7,
    0.1,
    1 / 3,
    2.5e-5,
    1e21,
    1e22,
    123456789012345678901234.0,
    3.4028234663852886e38,
    1.401298464324817e-45,
    12345678.9,
  ];
  /* eslint-enable no-loss-of-precision */
  assert.equal(
    pyJson(vals.map((v) => new PyFloat(v))),
    '[1.0, -0.0, 0.0, 1e+16, 1000000000000000.0, 1e-05, 0.0001, 123456789.0, 1.5e+300, 5e-324, 9007199254740992.0, -1e-07, 0.1, 0.3333333333333333, 2.5e-05, 1e+21, 1e+22, 1.2345678901234569e+23, 3.4028234663852886e+38, 1.401298464324817e-45, 12345678.9]',
  );
});

test('strings, bigints and null as json.dumps writes them (ensure_ascii)', () => {
  assert.equal(pyJson({ a: 'µ ✓ \u{1F600} \x7f', b: [1, 2n ** 63n - 1n], c: null }), '{"a": "\\u00b5 \\u2713 \\ud83d\\ude00 \\u007f", "b": [1, 9223372036854775807], "c": null}');
});

test('int64/uint64 beyond 2^53 keep every digit in the JSON output', () => {
  const frames = encodeMessage({
    pulseId: 1,
    globalTimestamp: { sec: 1, ns: 0 },
    channels: [
      { def: { name: 'i' }, value: -(2n ** 63n) },
      { def: { name: 'u', type: 'uint64' }, value: new BigUint64Array([2n ** 64n - 1n, 3n]) },
    ],
  });
  const msg = new BsreadReceiver().open(frames) as BsreadMessage;
  const j = messageToJson(msg);
  assert.equal(j.channels['i']!.value, -(2n ** 63n));
  assert.deepStrictEqual(j.channels['u']!.value, { dtype: 'uint64', shape: [2], values: [2n ** 64n - 1n, 3] });
  assert.match(formatMessageJson(msg), /"value": -9223372036854775808, .*"values": \[18446744073709551615, 3\]/);
});
