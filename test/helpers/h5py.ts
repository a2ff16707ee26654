// An independent reader for the files we write: Debian's h5py (python3-h5py), run with
// Debian's python (the python3 first on PATH may be another installation without h5py).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DEBIAN_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * Runs a python snippet with `path` bound to the file and h5py/numpy imported; the snippet sets
 * `result` to something JSON-serialisable (numpy arrays are converted with .tolist()).
 */
export function h5py<T = unknown>(path: string, snippet: string): Promise<T> {
  const program = `
import json, sys, math
import numpy as np, h5py
path = sys.argv[1]
def conv(o):
    if isinstance(o, np.ndarray): return conv(o.tolist())
    if isinstance(o, (np.integer,)): return int(o)
    if isinstance(o, (np.floating, float)):
        f = float(o)
        if math.isnan(f): return "NaN"
        if math.isinf(f): return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(o, bytes): return o.decode("utf-8", "replace")
    if isinstance(o, dict): return {str(k): conv(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return [conv(v) for v in o]
    return o
result = None
${snippet}
print(json.dumps(conv(result)))
`;
  return new Promise((resolve, reject) => {
    execFile(DEBIAN_PYTHON, ['-c', program, path], { maxBuffer: 512 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`h5py failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

/** h5dump's text output for a file (another independent reader). */
export function h5dump(path: string, args: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('h5dump', [...args, path], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`h5dump failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}
