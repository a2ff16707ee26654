// What the files of the native ZeroMQ transport share (zmq_transport.cc says what it does):
//   zmq_block_pool.cc  BlockPool: recycled message blocks
//   zmq_state.cc       State: one receiver's socket, thread and queue; messages to JS
//   zmq_wait_worker.cc WaitWorker: receiveBatch's wait on a worker thread
//   zmq_receiver.cc    Receiver: the JS class ZmqReceiver
//   zmq_sender.cc      Sender: the JS class ZmqSender
//   zmq_transport.cc   registration and the exit hook
#pragma once

#include <napi.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "errors.h"

namespace zmqt {

// Frame offsets are uint32 and a Node 20 Buffer holds at most 4 GiB.
constexpr size_t kMaxMessageBytes = 0xFFFFFFFFu;
constexpr size_t kMaxFrames = 64u * 1024 * 1024;

struct Msg {
  uint8_t* data = nullptr;  // malloc'd; ownership passes to the JS Buffer (or a slab's ArrayBuffer)
  size_t size = 0;
  size_t cap = 0;  // bytes allocated (>= size; the JS Buffer shows size)
  std::vector<uint32_t> offsets;  // frame count + 1 entries
  int slot = -1;  // >= 0: received into that slab (recycling receivers)
};

// Recycling receivers (slabMax > 0) keep up to slabMax message blocks together with their JS
// ArrayBuffer ("slabs") and refill one once JS hands its message back (recycle(slot)). A
// consumer that copies what it needs before taking the next message (the writer) then adds no
// new external memory per message, so V8 stops running a major GC every few tens of MB
// received (measured: ~20 % of the writer's CPU at 5000 channels + a camera, 100 Hz).
constexpr size_t kMinSlabBytes = 64 * 1024;

// A libzmq failure: Error with code ZMQ_ERR and the failing call in `zmqFunction` (errors.h).
Napi::Error ZmqError(Napi::Env env, const std::string& message, const char* fn);
[[noreturn]] inline void ThrowZmq(Napi::Env env, const std::string& message, const char* fn) { throw ZmqError(env, message, fn); }

// ---- zmq_block_pool.cc ----

// Recycled big message blocks, shared by all receivers (the reasons are in zmq_block_pool.cc).
class BlockPool {
 public:
  // The smallest pooled block of at least want bytes, else the biggest smaller one (the receiver
  // grows it if needed), else none. want is only a guess of the next message's size; a block far
  // from it (a stream of another size) is left alone rather than reallocated.
  uint8_t* take(size_t want, size_t& cap);
  // Keeps the block for reuse, or frees it (small, pool full, or no receiver running).
  void give(uint8_t* p, size_t cap);
  // Receiver threads register while they run; the last one to stop empties the pool, so an
  // idle process does not keep the memory.
  // Frees the blocks that have waited unused longer than 5 s (also done by take and give).
  void trimIdle();
  void addUser();
  void removeUser();

 private:
  struct Block {
    uint8_t* p;
    size_t cap;
    std::chrono::steady_clock::time_point given;
  };
  std::mutex mu_;
  std::vector<Block> blocks_;
  size_t bytes_ = 0;
  size_t users_ = 0;
};

// The process's pool. Never destroyed: Buffer finalizers may still run during teardown after
// static destructors.
BlockPool& pool();

// Unused capacity a delivered block may keep (instead of a realloc that would shrink a pooled
// block and make the next one grow again). It is reported to V8 with the Buffer.
inline size_t slackAllowed(size_t size) { return size / 32 + 4096; }

// ---- zmq_state.cc ----

// One receiver: its context, socket, receiving thread, bounded queue and slabs. Shared between
// the JS object, its waits on worker threads and the exit hook, hence a shared_ptr.
struct State {
  void* ctx = nullptr;
  void* sock = nullptr;
  std::thread thread;
  std::mutex mu;
  std::condition_variable notEmpty;
  std::condition_variable notFull;
  std::deque<Msg> queue;
  size_t queueMax = 64;
  size_t queueBytesMax = 0;  // 0: no byte bound
  size_t queuedBytes = 0;
  bool stopping = false;
  bool closed = false;
  std::string error;  // a receive error other than shutdown, reported to JS once
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> waitsFull{0};
  std::atomic<uint64_t> dropped{0};  // messages too big to keep, or no memory
  // Slabs (see Msg): entries under mu (data == nullptr: unused entry), references JS thread only.
  struct Slab {
    uint8_t* data = nullptr;
    size_t cap = 0;
    bool free = false;
    bool delivered = false;  // held by JS (only then may recycle() touch it)
  };
  size_t slabMax = 0;
  std::vector<Slab> slabs;
  std::vector<napi_ref> slabRefs;
  std::atomic<size_t> lastSize{0};
  uint64_t slabsDropped = 0;    // JS thread
  std::atomic<uint64_t> slabOverflows{0};  // messages that outgrew their slab
  // The addon's own ZMTP reader (zmtp_reader.cc) instead of libzmq: PULL from tcp:// only.
  bool zmtp = false;
  std::string zmtpHost, zmtpPort;
  int wakeFd = -1;  // eventfd: close() wakes the reader's poll
  int zmtpHandshakeMs = 30000;  // libzmq's ZMQ_HANDSHAKE_IVL default
  std::atomic<uint64_t> zmtpConnections{0};  // handshakes completed
  std::atomic<uint64_t> zmtpErrors{0};       // connections ended by a protocol error
  std::string zmtpLastError;                 // under mu

  ~State();

  // Caller holds mu. The smallest free slab that holds a message of the last size; marked in
  // use. -1 when none is free and big enough (smaller ones make way in adoptSlab).
  int takeSlab(size_t want);
  void releaseSlab(int slot);
  // Gives back messages that were not handed to JS: slabs become free, blocks go to the pool.
  void releaseAll(std::vector<Msg>& msgs);
  // Caller holds mu. At least one message is always allowed, however big.
  bool full() const;
  // The receiving thread's loop (libzmq, or runZmtp).
  void run();
  // zmtp_reader.cc: connects, handshakes and reads messages until close(), reconnecting as
  // libzmq does (every 100 ms) when the peer is not there or goes away.
  void runZmtp();
  void wakeZmtp();
  // Receiving thread: waits while the queue is full; false once stopping.
  bool waitForRoom();
  // Receiving thread, at its end: no more messages will come.
  void stopped();
  // Idempotent; joins the thread, closes socket and context, frees undelivered messages.
  void close();
  // JS thread. Hands a slab back (recycle(slot)): free for the next message, or dropped (its
  // ArrayBuffer left to the GC) when the receiver is closed or the slab is smaller than the
  // last message. False for a slot that is not in use.
  bool recycle(napi_env env, int64_t slot);
  // JS thread, after close(): drops the slabs no message holds (held ones go when recycled);
  // with `delivered` also those JS holds (the receiver object is being collected: nothing will
  // hand them back; their views keep the memory alive as long as they need it).
  void dropFreeSlabs(napi_env env, bool delivered = false);
  // JS thread: makes a delivered block a slab when there is room; its ArrayBuffer, or an empty
  // value when the block stays a plain Buffer.
  Napi::Value adoptSlab(Napi::Env env, Msg& m);
  // Moves up to max messages out of the queue (caller holds no lock).
  void take(size_t max, std::vector<Msg>& out);
};

// Builds one message's block from its parts, for both readers: the block is chosen at the first
// part (a free slab, a pooled block or a new one), grown as parts come, trimmed and queued at
// the end. A message that cannot be kept (no memory, or beyond what uint32 offsets and a Node
// Buffer can address) is still read to its last part, so the next one starts in step, and is
// then dropped and counted: bad input must never crash the process.
class MessageBuilder {
 public:
  explicit MessageBuilder(State& st);
  ~MessageBuilder();
  MessageBuilder(const MessageBuilder&) = delete;
  MessageBuilder& operator=(const MessageBuilder&) = delete;
  // Where the next part's n bytes go, or nullptr when this message is being discarded.
  uint8_t* part(size_t n);
  // The last part is in: queues the message (or counts it dropped).
  void finish();
  // The connection ended mid-message: the block goes back, nothing is queued.
  void abandon();
  bool started() const { return chosen_; }

 private:
  void choose();
  void reset();
  State& st_;
  std::vector<uint32_t> offsets_;
  size_t hint_ = 64 * 1024;  // the last message's size: the next block's capacity
  size_t cap_ = 0, total_ = 0;
  int slot_ = -1;
  uint8_t* buf_ = nullptr;
  bool chosen_ = false, discard_ = false;
};

// The messages as a JS array of { data, offsets, slot }; JS owns their blocks afterwards.
Napi::Value toJs(Napi::Env env, State& st, std::vector<Msg>& msgs);
// toJs, giving back what was not handed over when it throws.
Napi::Value toJsOrRelease(Napi::Env env, State& st, std::vector<Msg>& msgs);

int clampInt(double v, int lo, int hi);

// ---- zmq_wait_worker.cc ----

// Waits on a worker thread (up to timeoutMs) for messages; the promise resolves to toJs's array.
Napi::Promise QueueWait(Napi::Env env, std::shared_ptr<State> st, size_t max, int timeoutMs);

// ---- zmq_receiver.cc / zmq_sender.cc ----

Napi::Function InitReceiver(Napi::Env env);
// Closes every receiver still open (process exit).
void CloseLiveReceivers();

Napi::Function InitSender(Napi::Env env);
// Waits (at most maxWait) for closed senders' lingering contexts to finish delivering.
void WaitTerminatingSenders(std::chrono::milliseconds maxWait);

}  // namespace zmqt
