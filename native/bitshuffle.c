/* Bit-shuffle kernels, written from the transpose in bsread-protocol.md §6.2.
 *
 * Both directions work in two steps so that the bit step only ever sees single bytes:
 *   shuffle:   elements [n][s]  --byte transpose-->  rows [s][n]  --bit transpose per row-->  planes
 *   unshuffle: planes  --bit transpose per row-->  rows [s][n]  --byte transpose-->  elements [n][s]
 * Row j (n bytes: byte j of every element) maps to the 8 planes j*8..j*8+7, which sit contiguously
 * at offset j*n of the shuffled block, because (j*8 + k)*(n/8) = j*n + k*(n/8).
 * Blocks are at most a few KiB in the bitshuffle_lz4 container, so both steps run in L1 cache. */
#include "bitshuffle.h"

#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t bs_default_block_elems(size_t elem_size) {
  size_t b = (8192 / elem_size) / 8 * 8;
  return b < 128 ? 128 : b;
}

/* Transposes the 8x8 bit matrix in x (byte r = row r, bit c = column c) by three rounds of
 * masked swaps. Transposing twice gives x back, so both directions use it. */
static inline uint64_t transpose8x8(uint64_t x) {
  uint64_t t;
  t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x ^= t ^ (t << 28);
  return x;
}

/* Gathers src[0], src[stride], ..., src[7*stride] into bytes 0..7 (byte order independent). */
static inline uint64_t gather8(const uint8_t *src, size_t stride) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x |= (uint64_t)src[(size_t)i * stride] << (8 * i);
  return x;
}

static inline void scatter8(uint64_t x, uint8_t *dst, size_t stride) {
  for (int i = 0; i < 8; i++) dst[(size_t)i * stride] = (uint8_t)(x >> (8 * i));
}

/* ---- bit step: one row of 8*ngroups bytes <-> 8 planes of ngroups bytes, stride bytes apart ---- */

static void row_to_planes(const uint8_t *row, uint8_t *planes, size_t ngroups, size_t stride) {
  size_t p = 0;
#ifdef __SSE2__
  /* 16 elements at a time: movemask collects the top bit of each byte, i.e. bit 7 of 16
   * elements = bytes p and p+1 of plane 7; doubling each byte brings the next bit to the top. */
  for (; p + 2 <= ngroups; p += 2) {
    __m128i v = _mm_loadu_si128((const __m128i *)(row + 8 * p));
    for (int k = 7; k >= 0; k--) {
      uint16_t mask = (uint16_t)_mm_movemask_epi8(v);
      memcpy(planes + (size_t)k * stride + p, &mask, 2); /* x86 is little-endian: byte p first */
      v = _mm_add_epi8(v, v);
    }
  }
#endif
  for (; p < ngroups; p++) scatter8(transpose8x8(gather8(row + 8 * p, 1)), planes + p, stride);
}

#ifdef __SSE2__
/* transpose8x8 on both 64-bit halves of x at once. */
static inline __m128i transpose8x8_x2(__m128i x) {
  const __m128i c1 = _mm_set1_epi64x(0x00AA00AA00AA00AALL);
  const __m128i c2 = _mm_set1_epi64x(0x0000CCCC0000CCCCLL);
  const __m128i c3 = _mm_set1_epi64x(0x00000000F0F0F0F0LL);
  __m128i t;
  t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 7)), c1);
  x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 7)));
  t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 14)), c2);
  x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 14)));
  t = _mm_and_si128(_mm_xor_si128(x, _mm_srli_epi64(x, 28)), c3);
  x = _mm_xor_si128(x, _mm_xor_si128(t, _mm_slli_epi64(t, 28)));
  return x;
}
#endif

static void planes_to_row(const uint8_t *planes, uint8_t *row, size_t ngroups, size_t stride) {
  size_t p = 0;
#ifdef __SSE2__
  /* 128 elements at a time: load 16 bytes of each plane, byte-transpose the 8x16 matrix with
   * three rounds of unpacks so that each 64-bit half holds the 8 plane bytes of one group of 8
   * elements, then transpose the bits of both halves at once. */
  for (; p + 16 <= ngroups; p += 16) {
    const uint8_t *s = planes + p;
    __m128i r0 = _mm_loadu_si128((const __m128i *)(s + 0 * stride));
    __m128i r1 = _mm_loadu_si128((const __m128i *)(s + 1 * stride));
    __m128i r2 = _mm_loadu_si128((const __m128i *)(s + 2 * stride));
    __m128i r3 = _mm_loadu_si128((const __m128i *)(s + 3 * stride));
    __m128i r4 = _mm_loadu_si128((const __m128i *)(s + 4 * stride));
    __m128i r5 = _mm_loadu_si128((const __m128i *)(s + 5 * stride));
    __m128i r6 = _mm_loadu_si128((const __m128i *)(s + 6 * stride));
    __m128i r7 = _mm_loadu_si128((const __m128i *)(s + 7 * stride));
    __m128i a0 = _mm_unpacklo_epi8(r0, r1), a1 = _mm_unpackhi_epi8(r0, r1);
    __m128i b0 = _mm_unpacklo_epi8(r2, r3), b1 = _mm_unpackhi_epi8(r2, r3);
    __m128i c0 = _mm_unpacklo_epi8(r4, r5), c1 = _mm_unpackhi_epi8(r4, r5);
    __m128i d0 = _mm_unpacklo_epi8(r6, r7), d1 = _mm_unpackhi_epi8(r6, r7);
    __m128i e0 = _mm_unpacklo_epi16(a0, b0), e1 = _mm_unpackhi_epi16(a0, b0);
    __m128i e2 = _mm_unpacklo_epi16(a1, b1), e3 = _mm_unpackhi_epi16(a1, b1);
    __m128i f0 = _mm_unpacklo_epi16(c0, d0), f1 = _mm_unpackhi_epi16(c0, d0);
    __m128i f2 = _mm_unpacklo_epi16(c1, d1), f3 = _mm_unpackhi_epi16(c1, d1);
    uint8_t *d = row + 8 * p;
    _mm_storeu_si128((__m128i *)(d + 0), transpose8x8_x2(_mm_unpacklo_epi32(e0, f0)));
    _mm_storeu_si128((__m128i *)(d + 16), transpose8x8_x2(_mm_unpackhi_epi32(e0, f0)));
    _mm_storeu_si128((__m128i *)(d + 32), transpose8x8_x2(_mm_unpacklo_epi32(e1, f1)));
    _mm_storeu_si128((__m128i *)(d + 48), transpose8x8_x2(_mm_unpackhi_epi32(e1, f1)));
    _mm_storeu_si128((__m128i *)(d + 64), transpose8x8_x2(_mm_unpacklo_epi32(e2, f2)));
    _mm_storeu_si128((__m128i *)(d + 80), transpose8x8_x2(_mm_unpackhi_epi32(e2, f2)));
    _mm_storeu_si128((__m128i *)(d + 96), transpose8x8_x2(_mm_unpacklo_epi32(e3, f3)));
    _mm_storeu_si128((__m128i *)(d + 112), transpose8x8_x2(_mm_unpackhi_epi32(e3, f3)));
  }
#endif
  for (; p < ngroups; p++) scatter8(transpose8x8(gather8(planes + p, stride)), row + 8 * p, 1);
}

/* ---- byte step: elements [n][s] <-> rows [s][n] ---- */

static void bytes_to_rows_scalar(const uint8_t *in, uint8_t *rows, size_t from, size_t n, size_t s) {
  for (size_t j = 0; j < s; j++) {
    uint8_t *row = rows + j * n;
    for (size_t i = from; i < n; i++) row[i] = in[i * s + j];
  }
}

static void rows_to_bytes_scalar(const uint8_t *rows, uint8_t *out, size_t from, size_t n, size_t s) {
  for (size_t i = from; i < n; i++) {
    for (size_t j = 0; j < s; j++) out[i * s + j] = rows[j * n + i];
  }
}

#ifdef __SSE2__
/* Splits the bytes of a|b (32 bytes) into the even-indexed ones and the odd-indexed ones. */
static inline void split_even_odd(__m128i a, __m128i b, __m128i *even, __m128i *odd) {
  const __m128i lowbyte = _mm_set1_epi16(0x00ff);
  *even = _mm_packus_epi16(_mm_and_si128(a, lowbyte), _mm_and_si128(b, lowbyte));
  *odd = _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8));
}

static inline __m128i load16(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)p); }
static inline void store16(uint8_t *p, __m128i v) { _mm_storeu_si128((__m128i *)p, v); }

/* Each function handles whole runs of 16 elements and returns how many elements it did. */
static size_t bytes_to_rows_2(const uint8_t *in, uint8_t *rows, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i e, o;
    split_even_odd(load16(in + 2 * i), load16(in + 2 * i + 16), &e, &o);
    store16(rows + i, e);
    store16(rows + n + i, o);
  }
  return i;
}

static size_t bytes_to_rows_4(const uint8_t *in, uint8_t *rows, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8_t *s = in + 4 * i;
    __m128i e01, o01, e23, o23, b0, b1, b2, b3;
    split_even_odd(load16(s), load16(s + 16), &e01, &o01);      /* bytes 0,2 / 1,3 of elements 0..7 */
    split_even_odd(load16(s + 32), load16(s + 48), &e23, &o23); /* same for elements 8..15 */
    split_even_odd(e01, e23, &b0, &b2);
    split_even_odd(o01, o23, &b1, &b3);
    store16(rows + i, b0);
    store16(rows + n + i, b1);
    store16(rows + 2 * n + i, b2);
    store16(rows + 3 * n + i, b3);
  }
  return i;
}

static size_t bytes_to_rows_8(const uint8_t *in, uint8_t *rows, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8_t *s = in + 8 * i;
    __m128i e[4], o[4], ee0, eo0, oe0, oo0, ee1, eo1, oe1, oo1, b[8];
    for (int q = 0; q < 4; q++) split_even_odd(load16(s + 32 * q), load16(s + 32 * q + 16), &e[q], &o[q]);
    split_even_odd(e[0], e[1], &ee0, &eo0); /* bytes 0,4 / 2,6 of elements 0..7 */
    split_even_odd(e[2], e[3], &ee1, &eo1);
    split_even_odd(o[0], o[1], &oe0, &oo0); /* bytes 1,5 / 3,7 */
    split_even_odd(o[2], o[3], &oe1, &oo1);
    split_even_odd(ee0, ee1, &b[0], &b[4]);
    split_even_odd(eo0, eo1, &b[2], &b[6]);
    split_even_odd(oe0, oe1, &b[1], &b[5]);
    split_even_odd(oo0, oo1, &b[3], &b[7]);
    for (int j = 0; j < 8; j++) store16(rows + (size_t)j * n + i, b[j]);
  }
  return i;
}

static size_t rows_to_bytes_2(const uint8_t *rows, uint8_t *out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i r0 = load16(rows + i), r1 = load16(rows + n + i);
    store16(out + 2 * i, _mm_unpacklo_epi8(r0, r1));
    store16(out + 2 * i + 16, _mm_unpackhi_epi8(r0, r1));
  }
  return i;
}

static size_t rows_to_bytes_4(const uint8_t *rows, uint8_t *out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i r0 = load16(rows + i), r1 = load16(rows + n + i);
    __m128i r2 = load16(rows + 2 * n + i), r3 = load16(rows + 3 * n + i);
    __m128i x0 = _mm_unpacklo_epi8(r0, r1), x1 = _mm_unpackhi_epi8(r0, r1);
    __m128i y0 = _mm_unpacklo_epi8(r2, r3), y1 = _mm_unpackhi_epi8(r2, r3);
    uint8_t *d = out + 4 * i;
    store16(d, _mm_unpacklo_epi16(x0, y0));
    store16(d + 16, _mm_unpackhi_epi16(x0, y0));
    store16(d + 32, _mm_unpacklo_epi16(x1, y1));
    store16(d + 48, _mm_unpackhi_epi16(x1, y1));
  }
  return i;
}

static size_t rows_to_bytes_8(const uint8_t *rows, uint8_t *out, size_t n) {
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i r[8];
    for (int j = 0; j < 8; j++) r[j] = load16(rows + (size_t)j * n + i);
    __m128i x01l = _mm_unpacklo_epi8(r[0], r[1]), x01h = _mm_unpackhi_epi8(r[0], r[1]);
    __m128i x23l = _mm_unpacklo_epi8(r[2], r[3]), x23h = _mm_unpackhi_epi8(r[2], r[3]);
    __m128i x45l = _mm_unpacklo_epi8(r[4], r[5]), x45h = _mm_unpackhi_epi8(r[4], r[5]);
    __m128i x67l = _mm_unpacklo_epi8(r[6], r[7]), x67h = _mm_unpackhi_epi8(r[6], r[7]);
    /* y: bytes 0..3 of elements 0-3, 4-7, 8-11, 12-15; z: bytes 4..7 of the same */
    __m128i y0 = _mm_unpacklo_epi16(x01l, x23l), y1 = _mm_unpackhi_epi16(x01l, x23l);
    __m128i y2 = _mm_unpacklo_epi16(x01h, x23h), y3 = _mm_unpackhi_epi16(x01h, x23h);
    __m128i z0 = _mm_unpacklo_epi16(x45l, x67l), z1 = _mm_unpackhi_epi16(x45l, x67l);
    __m128i z2 = _mm_unpacklo_epi16(x45h, x67h), z3 = _mm_unpackhi_epi16(x45h, x67h);
    uint8_t *d = out + 8 * i;
    store16(d + 0, _mm_unpacklo_epi32(y0, z0));
    store16(d + 16, _mm_unpackhi_epi32(y0, z0));
    store16(d + 32, _mm_unpacklo_epi32(y1, z1));
    store16(d + 48, _mm_unpackhi_epi32(y1, z1));
    store16(d + 64, _mm_unpacklo_epi32(y2, z2));
    store16(d + 80, _mm_unpackhi_epi32(y2, z2));
    store16(d + 96, _mm_unpacklo_epi32(y3, z3));
    store16(d + 112, _mm_unpackhi_epi32(y3, z3));
  }
  return i;
}
#endif

static void bytes_to_rows(const uint8_t *in, uint8_t *rows, size_t n, size_t s) {
  size_t done = 0;
#ifdef __SSE2__
  if (s == 2) done = bytes_to_rows_2(in, rows, n);
  else if (s == 4) done = bytes_to_rows_4(in, rows, n);
  else if (s == 8) done = bytes_to_rows_8(in, rows, n);
#endif
  bytes_to_rows_scalar(in, rows, done, n, s);
}

static void rows_to_bytes(const uint8_t *rows, uint8_t *out, size_t n, size_t s) {
  size_t done = 0;
#ifdef __SSE2__
  if (s == 2) done = rows_to_bytes_2(rows, out, n);
  else if (s == 4) done = rows_to_bytes_4(rows, out, n);
  else if (s == 8) done = rows_to_bytes_8(rows, out, n);
#endif
  rows_to_bytes_scalar(rows, out, done, n, s);
}

/* ---- public entry points ---- */

/* For the common sizes, go through 128 elements at a time with the byte rows in a small local
 * array: the intermediate rows then never leave L1, and no scratch block is needed. */
#define CHUNK_ELEMS 128

static int chunked_size(size_t elem_size) { return elem_size == 2 || elem_size == 4 || elem_size == 8; }

static void bitshuffle_chunked(const uint8_t *in, uint8_t *out, size_t n, size_t s) {
  uint8_t rows[8 * CHUNK_ELEMS];
  size_t nb = n / 8, i = 0;
  for (; i + CHUNK_ELEMS <= n; i += CHUNK_ELEMS) {
    bytes_to_rows(in + i * s, rows, CHUNK_ELEMS, s);
    for (size_t j = 0; j < s; j++) row_to_planes(rows + j * CHUNK_ELEMS, out + j * n + i / 8, CHUNK_ELEMS / 8, nb);
  }
  for (; i < n; i += 8) {
    for (size_t j = 0; j < s; j++) scatter8(transpose8x8(gather8(in + i * s + j, s)), out + j * n + i / 8, nb);
  }
}

static void bitunshuffle_chunked(const uint8_t *in, uint8_t *out, size_t n, size_t s) {
  uint8_t rows[8 * CHUNK_ELEMS];
  size_t nb = n / 8, i = 0;
  for (; i + CHUNK_ELEMS <= n; i += CHUNK_ELEMS) {
    for (size_t j = 0; j < s; j++) planes_to_row(in + j * n + i / 8, rows + j * CHUNK_ELEMS, CHUNK_ELEMS / 8, nb);
    rows_to_bytes(rows, out + i * s, CHUNK_ELEMS, s);
  }
  for (; i < n; i += 8) {
    for (size_t j = 0; j < s; j++) scatter8(transpose8x8(gather8(in + j * n + i / 8, nb)), out + i * s + j, s);
  }
}

void bs_bitshuffle(const uint8_t *in, uint8_t *out, uint8_t *scratch, size_t n, size_t elem_size) {
  if (chunked_size(elem_size)) {
    bitshuffle_chunked(in, out, n, elem_size);
    return;
  }
  const uint8_t *rows = in;
  if (elem_size > 1) {
    bytes_to_rows(in, scratch, n, elem_size);
    rows = scratch;
  }
  for (size_t j = 0; j < elem_size; j++) row_to_planes(rows + j * n, out + j * n, n / 8, n / 8);
}

void bs_bitunshuffle(const uint8_t *in, uint8_t *out, uint8_t *scratch, size_t n, size_t elem_size) {
  if (chunked_size(elem_size)) {
    bitunshuffle_chunked(in, out, n, elem_size);
    return;
  }
  uint8_t *rows = elem_size > 1 ? scratch : out;
  for (size_t j = 0; j < elem_size; j++) planes_to_row(in + j * n, rows + j * n, n / 8, n / 8);
  if (elem_size > 1) rows_to_bytes(rows, out, n, elem_size);
}
