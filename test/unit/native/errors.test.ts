// The addon's one error convention (native/errors.h, native/args.h): bad arguments are TypeError /
// RangeError with Node's codes and a message naming the function and the argument; library and
// data failures are Errors with a `code` and, where a library call failed, its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nativeAddon, type NativeErrorCode } from '../../../src/native/surface.js';

const addon = nativeAddon();

function thrown(fn: () => unknown): Error & { code?: string; zmqFunction?: string; h5Function?: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
    return e;
  }
  assert.fail('nothing was thrown');
}

function assertCoded(e: { code?: string }, code: NativeErrorCode): void {
  assert.equal(e.code, code);
}

test('argument errors name the function and the argument, with Node codes', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => addon.lz4Decompress('x' as unknown as Uint8Array, true, 10), /^lz4Decompress: argument 1 \(frame\) must be a Uint8Array$/],
    [() => addon.h5FileCreate(1 as unknown as string, false), /^h5FileCreate: argument 1 \(path\) must be a string$/],
    [() => new addon.ZmqSender('tcp://127.0.0.1:0', 'push', 'bind', 'x' as unknown as number, 0), /^ZmqSender: argument 4 \(highWaterMark\) must be a number$/],
  ];
  for (const [fn, message] of cases) {
    const e = thrown(fn);
    assert.ok(e instanceof TypeError, String(e));
    assert.equal(e.code, 'ERR_INVALID_ARG_TYPE');
    assert.match(e.message, message);
  }
  const range = thrown(() => addon.bitshuffle(Buffer.alloc(8), 0));
  assert.ok(range instanceof RangeError, String(range));
  assert.equal(range.code, 'ERR_OUT_OF_RANGE');
  assert.match(range.message, /^bitshuffle: argument 2 \(elemSize\) must be an integer from 1 to 1048576$/);
});

test('libzmq failures carry ZMQ_ERR and the failing call; a closed sender ZMQ_ERR_CLOSED', () => {
  const bind = thrown(() => new addon.ZmqSender('nonsense://x', 'push', 'bind', 10, 0));
  assertCoded(bind, 'ZMQ_ERR');
  assert.equal(bind.zmqFunction, 'zmq_bind');
  assert.match(bind.message, /^cannot bind nonsense:\/\/x: /);

  const connect = thrown(() => new addon.ZmqReceiver('nonsense://x', 'pull', 10, 4, 0, 0));
  assertCoded(connect, 'ZMQ_ERR');
  assert.equal(connect.zmqFunction, 'zmq_connect');
  assert.match(connect.message, /^cannot connect to nonsense:\/\/x: /);

  const sender = new addon.ZmqSender('tcp://127.0.0.1:0', 'push', 'bind', 10, 0);
  sender.close();
  const closed = thrown(() => sender.sendFrames([Buffer.from('x')]));
  assertCoded(closed, 'ZMQ_ERR_CLOSED');
});

test('data and HDF5 failures keep their codes', () => {
  assertCoded(
    thrown(() => addon.lz4Decompress(Buffer.alloc(2), true, 10)),
    'BSREAD_ERR_COMPRESSION',
  );
  const file = addon.h5FileCreateInMemory();
  addon.h5FileClose(file);
  assertCoded(
    thrown(() => addon.h5GroupCreate(file, '/g')),
    'H5_ERR_CLOSED',
  );
  const h5 = thrown(() => addon.h5FileOpenReadOnly('/nonexistent/file.h5'));
  assertCoded(h5, 'H5_ERR');
  assert.equal(h5.h5Function, 'H5Fopen');
});
