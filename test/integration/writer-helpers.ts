// Shared pieces of the writer integration tests: a real sf_bsread_writer process, its REST API,
// and a test sender made of our encoder and a PUSH socket.
import { encodeMessage, prepareDataHeader, resolveChannelDef, type PreparedDataHeader } from '../../src/bsread/index.js';
import { StreamSender } from '../helpers/stream-sender.js';
import { freePort } from '../helpers/net.js';
import { startProgram, type RunningProgram } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';

export interface Reply {
  state: 'ok' | 'error';
  status: string;
  [k: string]: unknown;
}

export async function rest(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ http: number; json: Reply }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, body, headers });
  const text = await r.text();
  return { http: r.status, json: JSON.parse(text) as Reply };
}

export interface Writer {
  proc: RunningProgram;
  port: number;
  call(method: string, path: string, body?: string): Promise<Reply>;
}

/** Starts the writer and waits until its REST API answers. */
export async function startWriter(stream: string, output: string, extra: string[] = [], userId = '-1'): Promise<Writer> {
  const port = await freePort();
  const proc = startProgram('sf_bsread_writer', [stream, output, userId, String(port), ...extra]);
  await waitFor(
    `writer REST on ${port} (stderr: ${proc.stderr().slice(-500)})`,
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`writer exited early: ${proc.stderr()}`);
      return (await rest(port, 'GET', '/status')).json.state === 'ok';
    },
    15_000,
  );
  return { proc, port, call: async (m, p, b) => (await rest(port, m, p, b)).json };
}

export const PARAMETERS = {
  'general/created': '2024-05-01T10:00:00',
  'general/user': 'p12345',
  'general/process': 'sf_bsread_writer test',
  'general/instrument': 'alvra',
};

/** The test channels: a float64 scalar, an int32 pair, a string, and a channel that never has a value. */
const DEFS = [
  resolveChannelDef({ name: 'SCALAR', type: 'float64', shape: [1] }),
  resolveChannelDef({ name: 'PAIR', type: 'int32', shape: [2] }),
  resolveChannelDef({ name: 'TEXT', type: 'string', shape: [1] }),
  resolveChannelDef({ name: 'ALWAYS_MISSING', type: 'float64', shape: [1] }),
];
let header: PreparedDataHeader | null = null;

/** Pulse p: SCALAR = p * 1.5, PAIR = [p, -p], TEXT = "p<p>", ALWAYS_MISSING missing; timestamp given or derived. */
export function testMessage(pulseId: number, time?: { sec: number; ns: number }): Buffer[] {
  header ??= prepareDataHeader(DEFS);
  const ts = time ?? { sec: 1_700_000_000 + Math.floor(pulseId / 100), ns: (pulseId % 100) * 10_000_000 };
  return encodeMessage({
    pulseId,
    globalTimestamp: ts,
    header,
    channels: [
      { def: DEFS[0]!, value: pulseId * 1.5 },
      { def: DEFS[1]!, value: new Int32Array([pulseId, -pulseId]) },
      { def: DEFS[2]!, value: `p${pulseId}` },
      { def: DEFS[3]!, value: null },
    ],
  });
}

export function nowStamp(offsetMs = 0): { sec: number; ns: number } {
  const ms = Date.now() + offsetMs;
  return { sec: Math.floor(ms / 1000), ns: (ms % 1000) * 1_000_000 };
}

export async function sender(): Promise<StreamSender> {
  return StreamSender.bind({ address: 'tcp://127.0.0.1:0', mode: 'push', highWaterMark: 10_000 });
}

export function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Python snippet: pulse ids of SCALAR and the data of every channel. */
export const READ_FILE = `
f = h5py.File(path, "r")
result = {
  "pulse_id": f["/data/SCALAR/pulse_id"][:],
  "scalar": f["/data/SCALAR/data"][:, 0],
  "pair": f["/data/PAIR/data"][:],
  "text": [s.decode() if isinstance(s, bytes) else s for s in f["/data/TEXT/data"][:]],
  "missing_keys": sorted(f["/data/ALWAYS_MISSING"].keys()),
  "missing_present": f["/data/ALWAYS_MISSING/is_data_present"][:],
  "general": {k: f["/general"][k][()] for k in f["/general"].keys()},
  "attrs": {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in f.attrs.items()},
}
`;

export interface FileContent {
  pulse_id: number[];
  scalar: number[];
  pair: number[][];
  text: string[];
  missing_keys: string[];
  missing_present: number[];
  general: Record<string, string>;
  attrs: Record<string, unknown>;
}
