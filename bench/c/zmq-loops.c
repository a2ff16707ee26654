/*
 * The plain C libzmq baselines of the writer benchmark (bench/writer.ts), built by it with the
 * system's cc and libzmq:
 *
 *   zmq-loops send FRAMES_FILE HASH
 *                                binds a PUSH socket on 127.0.0.1 (a free port), prints
 *                                "endpoint tcp://127.0.0.1:PORT", then reads commands on stdin:
 *                                "go FROM N" sends pulses FROM..FROM+N-1 as fast as the socket
 *                                takes them and prints "sent N"; "quit" (or end of input) exits.
 *   zmq-loops pull ENDPOINT N    connects a PULL socket, receives N multipart messages, prints
 *                                "first" after the first and "mark K COUNT NS" when COUNT
 *                                messages have arrived at 10 % and 90 % of N, then exits 0.
 *
 * FRAMES_FILE holds one bsread message: a little-endian uint32 frame count, then per frame a
 * uint32 length and the bytes. Frame 0 is replaced for every pulse by a main header with that
 * pulse id and HASH, the data header's hash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static void die(const char *what) {
  fprintf(stderr, "zmq-loops: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint32_t read_u32(FILE *f) {
  unsigned char b[4];
  if (fread(b, 1, 4, f) != 4) die("short frames file");
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int run_send(const char *path, const char *hash) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) die(path);
  uint32_t count = read_u32(f);
  if (count < 2 || count > 10000000) die("bad frame count");
  unsigned char **frames = calloc(count, sizeof *frames);
  size_t *lens = calloc(count, sizeof *lens);
  if (frames == NULL || lens == NULL) die("out of memory");
  for (uint32_t i = 0; i < count; i++) {
    lens[i] = read_u32(f);
    frames[i] = malloc(lens[i] > 0 ? lens[i] : 1);
    if (frames[i] == NULL || fread(frames[i], 1, lens[i], f) != lens[i]) die("short frame");
  }
  fclose(f);
  if (strlen(hash) > 64 || strchr(hash, '"') != NULL || strchr(hash, '\\') != NULL) die("bad hash");

  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_PUSH);
  int hwm = 1000, linger = 0;
  zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_bind(s, "tcp://127.0.0.1:*") != 0) die("zmq_bind");
  char endpoint[256];
  size_t el = sizeof endpoint;
  zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &el);
  printf("endpoint %s\n", endpoint);
  fflush(stdout);

  char line[256];
  char header[512];
  while (fgets(line, sizeof line, stdin) != NULL) {
    unsigned long long from = 0, n = 0;
    if (strncmp(line, "quit", 4) == 0) break;
    if (sscanf(line, "go %llu %llu", &from, &n) != 2) die("bad command");
    for (unsigned long long p = from; p < from + n; p++) {
      int hl2 = snprintf(header, sizeof header,
                         "{\"htype\":\"bsr_m-1.1\",\"pulse_id\":%llu,\"global_timestamp\":{\"sec\":%llu,\"ns\":%llu},"
                         "\"hash\":\"%s\",\"dh_compression\":\"none\"}",
                         p, 1700000000ull + p / 100, (p % 100) * 10000000ull, hash);
      if (zmq_send(s, header, (size_t)hl2, ZMQ_SNDMORE) < 0) die("zmq_send");
      for (uint32_t i = 1; i < count; i++) {
        if (zmq_send(s, frames[i], lens[i], i + 1 < count ? ZMQ_SNDMORE : 0) < 0) die("zmq_send");
      }
    }
    printf("sent %llu\n", n);
    fflush(stdout);
  }
  zmq_close(s);
  zmq_ctx_term(ctx);
  return 0;
}

static int run_pull(const char *endpoint, long n) {
  void *ctx = zmq_ctx_new();
  void *s = zmq_socket(ctx, ZMQ_PULL);
  int hwm = 100, linger = 0;
  zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  if (zmq_connect(s, endpoint) != 0) die("zmq_connect");
  /* The same marks as the writer's: 10 % and 90 % of the n - 1 timed messages, after the first. */
  long marks[2] = {1 + (long)((n - 1) * 0.1), 1 + (long)((n - 1) * 0.9)};
  int next = 0;
  zmq_msg_t part;
  zmq_msg_init(&part);
  for (long got = 0; got < n;) {
    int more;
    do {
      if (zmq_msg_recv(&part, s, 0) < 0) {
        if (errno == EINTR) continue;
        die("zmq_msg_recv");
      }
      more = zmq_msg_more(&part);
    } while (more);
    got++;
    if (got == 1) {
      printf("first\n");
      fflush(stdout);
    }
    while (next < 2 && got >= marks[next]) {
      printf("mark %d %ld %llu\n", next, got, (unsigned long long)now_ns());
      next++;
    }
  }
  fflush(stdout);
  zmq_msg_close(&part);
  zmq_close(s);
  zmq_ctx_term(ctx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "send") == 0) return run_send(argv[2], argv[3]);
  if (argc == 4 && strcmp(argv[1], "pull") == 0) return run_pull(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: zmq-loops send FRAMES_FILE HASH | zmq-loops pull ENDPOINT N\n");
  return 2;
}
