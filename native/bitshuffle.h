/* Bit-shuffle kernels (bsread-protocol.md §6.2), bit-exact with libbitshuffle's transpose.
 *
 * A block of n elements of s bytes each (n a multiple of 8) becomes 8*s bit-planes of n/8 bytes:
 *   out[(j*8 + k)*(n/8) + p] bit m = bit k of byte j of element 8p+m.
 * These functions trust their arguments; the callers (compression.cc) check every length. */
#ifndef SF_BSREAD_BITSHUFFLE_H
#define SF_BSREAD_BITSHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Default block size in elements for element size s (libbitshuffle's bshuf_default_block_size):
 * max(128, floor(floor(8192 / s) / 8) * 8). */
size_t bs_default_block_elems(size_t elem_size);

/* Shuffle n elements (n % 8 == 0) of elem_size bytes from in to out (n*elem_size bytes each).
 * scratch must hold n*elem_size bytes; it is not used when elem_size == 1. Buffers must not overlap. */
void bs_bitshuffle(const uint8_t *in, uint8_t *out, uint8_t *scratch, size_t n, size_t elem_size);

/* The inverse of bs_bitshuffle, same contract. */
void bs_bitunshuffle(const uint8_t *in, uint8_t *out, uint8_t *scratch, size_t n, size_t elem_size);

#ifdef __cplusplus
}
#endif

#endif
