// JSON text the way Python's json.dumps writes it with its defaults (", " and ": " separators,
// ensure_ascii), which is what bsread_python puts on the wire and what the fixtures use.
// Floats follow Python's repr (1.0, 1e-05, 1e+16, -0.0), bigint is written as exact digits.

/** Marks a number that Python would hold as a float (so 1 prints as 1.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJsonValue = null | boolean | number | bigint | string | PyFloat | readonly PyJsonValue[] | { readonly [key: string]: PyJsonValue | undefined };

/** Python's repr() of a float. NaN/Infinity are written as Python does (bare NaN, Infinity, -Infinity). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // Shortest round-trip digits, as both JS and Python (repr, since 3.1) produce them.
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** A JSON string literal with everything outside printable ASCII escaped as \uXXXX (Python's ensure_ascii, which escapes DEL too). */
export function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** json.dumps(value) with Python's default separators. Plain numbers print as integers when integral. */
export function pyJson(value: PyJsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'string':
      return pyString(value);
    case 'number':
      return Number.isInteger(value) && !Object.is(value, -0) && Math.abs(value) < 1e21 ? value.toFixed(0) : pyFloatRepr(value);
    default:
      break;
  }
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (Array.isArray(value)) return '[' + (value as readonly PyJsonValue[]).map(pyJson).join(', ') + ']';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as { readonly [key: string]: PyJsonValue | undefined })) {
    if (v === undefined) continue;
    parts.push(`${pyString(k)}: ${pyJson(v)}`);
  }
  return '{' + parts.join(', ') + '}';
}
