// The reply of GET /channels/live: what the real dispatcher, older servers and broken servers send.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DISPATCHER_URL, resolveDispatcherUrl } from '../../../src/dispatcher/dispatcher-client.js';
import { parseLiveChannels } from '../../../src/dispatcher/live-channels.js';
import { BsreadError } from '../../../src/errors.js';

const URL = 'http://dispatcher.test/sf-databuffer/channels/live';
const dispatcherError = (re: RegExp) => (e: unknown) => e instanceof BsreadError && e.code === 'BSREAD_ERR_DISPATCHER' && e.message.includes(URL) && re.test(e.message);

test('channel objects of two backends are flattened in order, every field typed', () => {
  const reply = [
    {
      backend: 'sf-databuffer',
      channels: [
        { name: 'SINEG01-DBPM340:X1', type: 'float64', shape: [1], modulo: 1, offset: 0, source: 'tcp://sf-ioc-dbpm340:9999' },
        { name: 'S10BC01-DBPM410:X1', type: 'float32', shape: [1], modulo: 10, offset: 3, source: 'tcp://sf-ioc-dbpm410:9999' },
      ],
    },
    { backend: 'sf-imagebuffer', channels: [{ name: 'SLG-LCAM-C041:FPICTURE', type: 'uint16', shape: [1024, 512], modulo: 1, offset: 0, source: 'SLG-LCAM-C041' }] },
  ];
  assert.deepEqual(parseLiveChannels(reply, URL), [
    { backend: 'sf-databuffer', name: 'SINEG01-DBPM340:X1', type: 'float64', shape: [1], modulo: 1, offset: 0, source: 'tcp://sf-ioc-dbpm340:9999' },
    { backend: 'sf-databuffer', name: 'S10BC01-DBPM410:X1', type: 'float32', shape: [1], modulo: 10, offset: 3, source: 'tcp://sf-ioc-dbpm410:9999' },
    { backend: 'sf-imagebuffer', name: 'SLG-LCAM-C041:FPICTURE', type: 'uint16', shape: [1024, 512], modulo: 1, offset: 0, source: 'SLG-LCAM-C041' },
  ]);
});

test('bare name strings (older servers) and objects with only a name: the other fields are absent', () => {
  const parsed = parseLiveChannels([{ backend: 'sf-databuffer', channels: ['A:X', { name: 'B:Y' }] }, { channels: ['C:Z'] }], URL);
  const none = { type: undefined, shape: undefined, modulo: undefined, offset: undefined, source: undefined };
  assert.deepEqual(parsed, [
    { backend: 'sf-databuffer', name: 'A:X', ...none },
    { backend: 'sf-databuffer', name: 'B:Y', ...none },
    { backend: undefined, name: 'C:Z', ...none },
  ]);
});

test('fields of another type are left out rather than failing; a scalar shape as a number becomes a list', () => {
  const [c] = parseLiveChannels([{ backend: 7, channels: [{ name: 'A', type: 3, shape: 2, modulo: '10', offset: 1.5, source: null, extra: true }] }], URL);
  assert.deepEqual(c, { backend: undefined, name: 'A', type: undefined, shape: [2], modulo: undefined, offset: undefined, source: undefined });
  const [d] = parseLiveChannels([{ channels: [{ name: 'B', shape: [2, 'x'] }] }], URL);
  assert.equal(d!.shape, undefined);
});

test('an empty list and a backend without channels are valid, and give nothing', () => {
  assert.deepEqual(parseLiveChannels([], URL), []);
  assert.deepEqual(parseLiveChannels([{ backend: 'sf-databuffer', channels: [] }], URL), []);
});

test('replies of another shape are refused naming the URL and the place', () => {
  assert.throws(() => parseLiveChannels({ channels: ['A'] }, URL), dispatcherError(/the reply is an object/));
  assert.throws(() => parseLiveChannels('A', URL), dispatcherError(/the reply is string "A"/));
  assert.throws(() => parseLiveChannels(null, URL), dispatcherError(/the reply is null/));
  assert.throws(() => parseLiveChannels(['A'], URL), dispatcherError(/backend \[0\] is string "A"/));
  assert.throws(() => parseLiveChannels([{ backend: 'x' }], URL), dispatcherError(/backend \[0\] has "channels" missing/));
  assert.throws(() => parseLiveChannels([{ backend: 'x', channels: 'A' }], URL), dispatcherError(/backend \[0\] has "channels" as string/));
  assert.throws(() => parseLiveChannels([{ channels: [] }, { channels: ['A', 3] }], URL), dispatcherError(/channel \[1\] of backend \[1\] is number 3/));
  assert.throws(() => parseLiveChannels([{ channels: [{ type: 'float64' }] }], URL), dispatcherError(/without a "name" string/));
  assert.throws(() => parseLiveChannels([{ channels: [''] }], URL), dispatcherError(/channel \[0\] of backend \[0\]/));
});

test('the base URL: --base_url, else $BSREAD_DISPATCHER_URL, else the default', () => {
  assert.equal(resolveDispatcherUrl('http://a:1', { BSREAD_DISPATCHER_URL: 'http://b:2' }), 'http://a:1');
  assert.equal(resolveDispatcherUrl(undefined, { BSREAD_DISPATCHER_URL: ' http://b:2 ' }), 'http://b:2');
  assert.equal(resolveDispatcherUrl(undefined, { BSREAD_DISPATCHER_URL: '' }), DEFAULT_DISPATCHER_URL);
  assert.equal(resolveDispatcherUrl(undefined, {}), DEFAULT_DISPATCHER_URL);
});
