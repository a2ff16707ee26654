// The per-frame ZeroMQ work, in C++: zeromq.js costs a few µs per frame and a 1000-channel bsread
// message is 2002 frames (docs/native-receive.md has the measurements).
//
// Receiver: owns a ZMQ context + PULL/SUB socket and a background thread that receives whole
// multipart messages and copies each into ONE contiguous malloc'd block plus a frame-offset
// table (the buffer's StoredMessage layout). A bounded queue (messages and bytes) sits between
// the thread and JS: when it is full the thread stops receiving, so ZeroMQ's receive HWM applies
// back-pressure (nothing is ever dropped here). JS pulls batches: tryReceiveBatch(max) (sync)
// or receiveBatch(max, timeoutMs) (a Promise; waits on a worker thread only when the queue is empty).
//
// Sender: a PUSH/PUB socket used from the JS thread only. send() never blocks: when the first
// frame cannot be queued (no peer, or HWM reached) nothing is sent and JS decides whether to wait
// or drop, as zeromq.js does with a send timeout of 0.
#include <napi.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

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

// Recycled message blocks. A big block (> 128 KiB) freed back to glibc is unmapped or trimmed
// with MADV_DONTNEED, so the next message's block faulted in fresh zeroed pages: with 1 MB
// messages at 100 Hz that zeroing plus the page faults cost more CPU than the copy itself.
// Blocks are freed when V8 collects their Buffer, in bursts of tens of MB per major GC; the pool
// keeps up to kPoolMaxBytes of them for the receiver threads to reuse. Small blocks go straight
// back to malloc, whose free lists already reuse them without new pages.
constexpr size_t kPoolMinBlock = 128 * 1024;
constexpr size_t kPoolMaxBytes = 64u * 1024 * 1024;
constexpr size_t kPoolMaxBlocks = 256;

class BlockPool {
 public:
  // The smallest pooled block of at least want bytes, else the biggest smaller one (the receiver
  // grows it if needed), else none. want is only a guess of the next message's size; a block far
  // from it (a stream of another size) is left alone rather than reallocated.
  uint8_t* take(size_t want, size_t& cap) {
    if (want < kPoolMinBlock / 2) return nullptr;
    std::lock_guard<std::mutex> lk(mu_);
    size_t best = blocks_.size();
    for (size_t i = 0; i < blocks_.size(); i++) {
      size_t c = blocks_[i].second;
      if (c < want / 2 || c / 2 > want) continue;
      if (best == blocks_.size()) {
        best = i;
        continue;
      }
      size_t b = blocks_[best].second;
      // A block that fits beats one that does not; among fitting, the smaller; else the bigger.
      if (c >= want ? (b < want || c < b) : (b < want && c > b)) best = i;
    }
    if (best == blocks_.size()) return nullptr;
    uint8_t* p = blocks_[best].first;
    cap = blocks_[best].second;
    blocks_[best] = blocks_.back();
    blocks_.pop_back();
    bytes_ -= cap;
    return p;
  }

  // Keeps the block for reuse, or frees it (small, pool full, or no receiver running).
  void give(uint8_t* p, size_t cap) {
    if (p == nullptr) return;
    if (cap >= kPoolMinBlock) {
      std::lock_guard<std::mutex> lk(mu_);
      if (users_ > 0 && bytes_ + cap <= kPoolMaxBytes && blocks_.size() < kPoolMaxBlocks) {
        blocks_.emplace_back(p, cap);
        bytes_ += cap;
        return;
      }
    }
    std::free(p);
  }

  // Receiver threads register while they run; the last one to stop empties the pool, so an
  // idle process does not keep the memory.
  void addUser() {
    std::lock_guard<std::mutex> lk(mu_);
    users_++;
  }
  void removeUser() {
    std::vector<std::pair<uint8_t*, size_t>> drop;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (--users_ > 0) return;
      drop.swap(blocks_);
      bytes_ = 0;
    }
    for (auto& b : drop) std::free(b.first);
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<uint8_t*, size_t>> blocks_;
  size_t bytes_ = 0;
  size_t users_ = 0;
};

// Never destroyed: Buffer finalizers may still run during teardown after static destructors.
BlockPool& pool() {
  static BlockPool* p = new BlockPool();
  return *p;
}

// Unused capacity a delivered block may keep (instead of a realloc that would shrink a pooled
// block and make the next one grow again). It is reported to V8 with the Buffer.
size_t slackAllowed(size_t size) { return size / 32 + 4096; }

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

  // Caller holds mu. The smallest free slab that holds a message of the last size; marked in
  // use. -1 when none is free and big enough (smaller ones make way in adoptSlab).
  int takeSlab(size_t want) {
    int best = -1;
    const size_t need = std::min(want, lastSize.load() + 4096);
    for (size_t i = 0; i < slabs.size(); i++) {
      const Slab& s = slabs[i];
      if (s.data == nullptr || !s.free || s.cap < need) continue;
      if (best < 0 || s.cap < slabs[static_cast<size_t>(best)].cap) best = static_cast<int>(i);
    }
    if (best >= 0) slabs[static_cast<size_t>(best)].free = false;
    return best;
  }

  void releaseSlab(int slot) {
    std::lock_guard<std::mutex> lk(mu);
    slabs[static_cast<size_t>(slot)].free = true;
  }

  // Gives back messages that were not handed to JS: slabs become free, blocks go to the pool.
  void releaseAll(std::vector<Msg>& msgs) {
    for (auto& m : msgs) {
      if (m.slot >= 0) releaseSlab(m.slot);
      else pool().give(m.data, m.cap);
    }
    msgs.clear();
  }

  ~State() { close(); }

  // Caller holds mu. At least one message is always allowed, however big.
  bool full() const {
    if (queue.empty()) return false;
    return queue.size() >= queueMax || (queueBytesMax > 0 && queuedBytes >= queueBytesMax);
  }

  void run() {
    // One zmq_msg_t reused for every part (zmq_msg_recv releases its previous content); each part
    // is copied at once into a growing block, which becomes the message's Buffer (one copy).
    zmq_msg_t part;
    zmq_msg_init(&part);
    std::vector<uint32_t> offsets;
    size_t hint = 64 * 1024;  // capacity for the next message: the last message's size
    pool().addUser();
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu);
        if (full() && !stopping) waitsFull++;
        notFull.wait(lk, [&] { return stopping || !full(); });
        if (stopping) break;
      }
      // Room for a slightly bigger message than the last, within what may be kept as slack
      // (recycling: a quarter more, as a block may become a slab for the messages to come).
      size_t want = slabMax > 0 ? hint + hint / 4 + 4096 : hint + slackAllowed(hint) / 2, cap = 0, total = 0;
      int slot = -1;
      uint8_t* buf = nullptr;
      offsets.clear();
      bool ok = true;
      // A message that cannot be kept (no memory, or beyond what uint32 offsets and a Node Buffer
      // can address) is still read to its last part, so the next message starts in step, and
      // is then dropped and counted: bad input must never crash the process.
      bool discard = false, chosen = false;
      for (;;) {
        if (zmq_msg_recv(&part, sock, 0) < 0) {
          int e = zmq_errno();
          if (e == EINTR) continue;  // retry this part
          if (e != ETERM) {
            std::lock_guard<std::mutex> lk(mu);
            error = zmq_strerror(e);
          }
          ok = false;
          break;
        }
        if (!chosen) {
          // The block is chosen once the first part is here: a slab the consumer handed back
          // while this thread waited is then free again.
          chosen = true;
          if (slabMax > 0) {
            std::lock_guard<std::mutex> lk(mu);
            slot = takeSlab(want);
            if (slot >= 0) {
              buf = slabs[static_cast<size_t>(slot)].data;
              cap = slabs[static_cast<size_t>(slot)].cap;
            }
          }
          if (buf == nullptr) {
            buf = pool().take(want, cap);
            // Recycling: a block may become a slab, which needs room for bigger messages.
            if (buf != nullptr && slabMax > 0 && cap < want) {
              pool().give(buf, cap);
              buf = nullptr;
            }
          }
          if (buf == nullptr) {
            cap = want;
            buf = static_cast<uint8_t*>(std::malloc(cap));
          }
          discard = buf == nullptr;
        }
        size_t n = zmq_msg_size(&part);
        if (!discard && (n > kMaxMessageBytes - total || offsets.size() >= kMaxFrames)) discard = true;
        if (!discard && total + n > cap) {
          // Grow by half (a block doubled past 1 MB would mostly be given back at the end).
          size_t grown = cap;
          while (total + n > grown) grown = grown > kMaxMessageBytes / 3 * 2 ? kMaxMessageBytes : grown + grown / 2;
          if (slot >= 0) {
            // A slab belongs to its ArrayBuffer: move to a block of our own and free the slab.
            slabOverflows++;
            uint8_t* bigger = static_cast<uint8_t*>(std::malloc(grown));
            if (bigger != nullptr) std::memcpy(bigger, buf, total);
            releaseSlab(slot);
            slot = -1;
            buf = bigger;
            cap = bigger != nullptr ? grown : 0;
            if (bigger == nullptr) discard = true;
          } else {
            uint8_t* bigger = static_cast<uint8_t*>(std::realloc(buf, grown));
            if (bigger == nullptr) {
              discard = true;
            } else {
              buf = bigger;
              cap = grown;
            }
          }
        }
        if (!discard) {
          offsets.push_back(static_cast<uint32_t>(total));
          std::memcpy(buf + total, zmq_msg_data(&part), n);
          total += n;
        }
        if (!zmq_msg_more(&part)) break;
      }
      if (!ok || discard) {
        if (slot >= 0) releaseSlab(slot);
        else pool().give(buf, cap);
        if (!ok) break;
        dropped++;
        hint = 64 * 1024;
        continue;
      }
      offsets.push_back(static_cast<uint32_t>(total));
      hint = total > 4096 ? total : 4096;
      lastSize = total;
      // Give back unused capacity beyond the allowed slack: the ring accounts data.byteLength, so
      // the block must not be much bigger (a failed shrink leaves the block as it was). A slab
      // keeps its size; a recycling receiver's block keeps up to a quarter more.
      size_t allowed = slabMax > 0 ? total / 4 + 4096 : slackAllowed(total);
      if (slot < 0 && cap - total > allowed) {
        // (recycling: an eighth more, so that a slab made of it takes the next, slightly bigger
        // message too)
        size_t exactCap = slabMax > 0 ? total + total / 8 + 4096 : total > 0 ? total : 1;
        uint8_t* exact = static_cast<uint8_t*>(std::realloc(buf, exactCap));
        if (exact != nullptr) {
          buf = exact;
          cap = exactCap;
        }
      }
      Msg out;
      out.data = buf;
      out.size = total;
      out.cap = cap;
      out.offsets = offsets;
      out.slot = slot;
      received++;
      {
        std::lock_guard<std::mutex> lk(mu);
        queuedBytes += out.size;
        queue.push_back(std::move(out));
      }
      notEmpty.notify_one();
    }
    zmq_msg_close(&part);
    pool().removeUser();
    // The socket belongs to this thread: close it here.
    zmq_close(sock);
    sock = nullptr;
    {
      std::lock_guard<std::mutex> lk(mu);
      stopping = true;
    }
    notEmpty.notify_all();
  }

  // Idempotent; joins the thread, closes socket and context, frees undelivered messages.
  void close() {
    {
      std::lock_guard<std::mutex> lk(mu);
      if (closed) return;
      closed = true;
      stopping = true;
    }
    notFull.notify_all();
    notEmpty.notify_all();
    if (ctx) zmq_ctx_shutdown(ctx);  // blocking zmq_msg_recv returns ETERM
    if (thread.joinable()) thread.join();
    if (sock) { zmq_close(sock); sock = nullptr; }
    if (ctx) { zmq_ctx_term(ctx); ctx = nullptr; }
    std::lock_guard<std::mutex> lk(mu);
    for (auto& m : queue) {
      if (m.slot >= 0) slabs[static_cast<size_t>(m.slot)].free = true;
      else pool().give(m.data, m.cap);
    }
    queue.clear();
    queuedBytes = 0;
  }

  // JS thread. Hands a slab back (recycle(slot)): free for the next message, or dropped (its
  // ArrayBuffer left to the GC) when the receiver is closed or the slab is smaller than the
  // last message. False for a slot that is not in use.
  bool recycle(napi_env env, int64_t slot) {
    if (slot < 0 || static_cast<size_t>(slot) >= slabRefs.size() || slabRefs[static_cast<size_t>(slot)] == nullptr) return false;
    bool drop;
    {
      std::lock_guard<std::mutex> lk(mu);
      Slab& s = slabs[static_cast<size_t>(slot)];
      if (s.data == nullptr || !s.delivered) return false;
      // Dropped too when far bigger than the messages now coming (a stream that got smaller).
      const size_t last = lastSize.load();
      drop = closed || s.cap < last || s.cap > 4 * last + (1u << 20);
      if (drop) s = Slab{};
      else {
        s.delivered = false;
        s.free = true;
      }
    }
    if (drop) {
      slabsDropped++;
      napi_delete_reference(env, slabRefs[static_cast<size_t>(slot)]);
      slabRefs[static_cast<size_t>(slot)] = nullptr;
    }
    return true;
  }

  // JS thread, after close(): drops the slabs no message holds (held ones go when recycled);
  // with `delivered` also those JS holds (the receiver object is being collected: nothing will
  // hand them back; their views keep the memory alive as long as they need it).
  void dropFreeSlabs(napi_env env, bool delivered = false) {
    std::lock_guard<std::mutex> lk(mu);
    for (size_t i = 0; i < slabs.size(); i++) {
      if (slabs[i].data != nullptr && (slabs[i].free || (delivered && slabs[i].delivered)) && slabRefs[i] != nullptr) {
        slabs[i] = Slab{};
        napi_delete_reference(env, slabRefs[i]);
        slabRefs[i] = nullptr;
      }
    }
  }

  // JS thread: makes a delivered block a slab when there is room; its ArrayBuffer, or an empty
  // value when the block stays a plain Buffer.
  Napi::Value adoptSlab(Napi::Env env, Msg& m) {
    // Only a block with room for a somewhat bigger message: message sizes vary (compressed
    // images), and a slab smaller than the last message is dropped when handed back.
    if (slabMax == 0 || closed || m.size < kMinSlabBytes || m.slot >= 0 || m.cap < m.size + m.size / 16) return Napi::Value();
    size_t idx = slabs.size(), live = 0, small = slabs.size();
    {
      std::lock_guard<std::mutex> lk(mu);
      for (size_t i = 0; i < slabs.size(); i++) {
        if (slabs[i].data != nullptr) live++;
        else if (idx == slabs.size()) idx = i;
        if (slabs[i].data != nullptr && slabs[i].free && slabs[i].cap < m.size) small = i;
      }
      if (live >= slabMax && small < slabs.size()) {
        // A free slab too small for the messages now coming makes way for this block.
        slabs[small] = Slab{};
        live--;
        idx = small;
      } else {
        small = slabs.size();
      }
    }
    if (small < slabs.size()) {
      slabsDropped++;
      napi_delete_reference(env, slabRefs[small]);
      slabRefs[small] = nullptr;
    }
    if (live >= slabMax) return Napi::Value();
    size_t cap = m.cap;
    Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, m.data, cap, [cap](Napi::Env, void* p) { pool().give(static_cast<uint8_t*>(p), cap); });
    uint8_t* data = m.data;
    m.data = nullptr;  // the ArrayBuffer owns it now
    napi_ref ref = nullptr;
    if (napi_create_reference(env, ab, 1, &ref) != napi_ok) throw Napi::Error::New(env, "cannot keep a receive slab");
    {
      std::lock_guard<std::mutex> lk(mu);
      if (idx == slabs.size()) slabs.emplace_back();
      slabs[idx] = Slab{data, cap, false};
    }
    if (idx >= slabRefs.size()) slabRefs.resize(idx + 1, nullptr);
    slabRefs[idx] = ref;
    m.slot = static_cast<int>(idx);
    return ab;
  }

  // Moves up to max messages out of the queue (caller holds no lock).
  void take(size_t max, std::vector<Msg>& out) {
    {
      std::lock_guard<std::mutex> lk(mu);
      while (!queue.empty() && out.size() < max) {
        queuedBytes -= queue.front().size;
        out.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    if (!out.empty()) notFull.notify_one();
  }
};

int clampInt(double v, int lo, int hi) {
  if (!(v >= lo)) return lo;  // also NaN
  return v > hi ? hi : static_cast<int>(v);
}

// Live receivers, closed by the env cleanup hook at process exit.
std::mutex gLiveMu;
std::set<std::shared_ptr<State>> gLive;

Napi::Value toJs(Napi::Env env, State& st, std::vector<Msg>& msgs) {
  Napi::Array arr = Napi::Array::New(env, msgs.size());
  for (size_t i = 0; i < msgs.size(); i++) {
    Msg& m = msgs[i];
    Napi::Object o = Napi::Object::New(env);
    Napi::Value slab = m.slot >= 0 ? Napi::Value() : st.adoptSlab(env, m);
    if (m.slot >= 0) {
      // A view of the slab (a Uint8Array; JS makes it a Buffer): valid until recycle(slot).
      if (slab.IsEmpty()) {
        napi_value ab = nullptr;
        napi_get_reference_value(env, st.slabRefs[static_cast<size_t>(m.slot)], &ab);
        slab = Napi::Value(env, ab);
      }
      o.Set("data", Napi::Uint8Array::New(env, m.size, slab.As<Napi::ArrayBuffer>(), 0));
      o.Set("slot", Napi::Number::New(env, m.slot));
    } else {
      // The finalizer runs on the JS thread once V8 has collected the Buffer: only then may the
      // block be reused. V8 counts the Buffer's length as external memory itself; the slack is
      // added here.
      size_t cap = m.cap, slack = m.cap - m.size;
      Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, m.data, m.size, [cap, slack](Napi::Env e, uint8_t* p) {
        if (slack > 0) {
          int64_t ignored;
          napi_adjust_external_memory(e, -static_cast<int64_t>(slack), &ignored);
        }
        pool().give(p, cap);
      });
      m.data = nullptr;
      if (slack > 0) {
        int64_t ignored;
        napi_adjust_external_memory(env, static_cast<int64_t>(slack), &ignored);
      }
      o.Set("data", data);
      o.Set("slot", Napi::Number::New(env, -1));
    }
    Napi::Uint32Array offs = Napi::Uint32Array::New(env, m.offsets.size());
    std::memcpy(offs.Data(), m.offsets.data(), m.offsets.size() * sizeof(uint32_t));
    o.Set("offsets", offs);
    arr.Set(static_cast<uint32_t>(i), o);
  }
  // Handed over only once the whole batch is built (should a step above throw, the caller
  // gives every message back and JS never sees the array): JS recycles these slabs.
  {
    std::lock_guard<std::mutex> lk(st.mu);
    for (auto& m : msgs) {
      if (m.slot >= 0) st.slabs[static_cast<size_t>(m.slot)].delivered = true;
    }
  }
  for (auto& m : msgs) {
    if (m.slot >= 0) {
      m.data = nullptr;
      m.slot = -1;
    }
  }
  return arr;
}

// toJs, giving back what was not handed over when it throws.
Napi::Value toJsOrRelease(Napi::Env env, State& st, std::vector<Msg>& msgs) {
  try {
    return toJs(env, st, msgs);
  } catch (...) {
    st.releaseAll(msgs);
    throw;
  }
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, std::shared_ptr<State> st, size_t max, int timeoutMs)
      : Napi::AsyncWorker(env), st_(std::move(st)), max_(max), timeoutMs_(timeoutMs), deferred_(Napi::Promise::Deferred::New(env)) {}
  ~WaitWorker() override { st_->releaseAll(msgs_); }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    {
      std::unique_lock<std::mutex> lk(st_->mu);
      st_->notEmpty.wait_for(lk, std::chrono::milliseconds(timeoutMs_), [&] { return st_->stopping || !st_->queue.empty(); });
      err_ = st_->error;
    }
    st_->take(max_, msgs_);
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (msgs_.empty() && !err_.empty()) {
      deferred_.Reject(Napi::Error::New(env, "zmq receive failed: " + err_).Value());
      return;
    }
    if (st_->closed) {
      // Taken just before close(): nobody will read or recycle them.
      st_->releaseAll(msgs_);
      st_->dropFreeSlabs(env);
      deferred_.Resolve(Napi::Array::New(env, 0));
      return;
    }
    try {
      deferred_.Resolve(toJs(env, *st_, msgs_));
    } catch (const Napi::Error& e) {  // e.g. no memory for a Buffer: reject, never throw from here
      st_->releaseAll(msgs_);
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<State> st_;
  size_t max_;
  int timeoutMs_;
  Napi::Promise::Deferred deferred_;
  std::vector<Msg> msgs_;
  std::string err_;
};

class Receiver : public Napi::ObjectWrap<Receiver> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Receiver",
                       {InstanceMethod("tryReceiveBatch", &Receiver::TryReceiveBatch),
                        InstanceMethod("receiveBatch", &Receiver::ReceiveBatch),
                        InstanceMethod("recycle", &Receiver::Recycle),
                        InstanceMethod("stats", &Receiver::Stats),
                        InstanceMethod("close", &Receiver::Close)});
  }

  // new Receiver(address, mode 'pull'|'sub', rcvHwm, queueMessages, queueBytes, slabs = 0)
  explicit Receiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Receiver>(info) {
    Napi::Env env = info.Env();
    std::string address = info[0].As<Napi::String>();
    std::string mode = info[1].As<Napi::String>();
    int hwm = clampInt(info[2].As<Napi::Number>().DoubleValue(), 0, 1000000000);
    int qmax = clampInt(info[3].As<Napi::Number>().DoubleValue(), 1, 1000000000);
    double qbytes = info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : 0;
    if (!(qbytes > 0) || qbytes > 1e15) qbytes = 0;  // NaN, ≤ 0 or absurd: no byte bound
    auto st = std::make_shared<State>();
    st->queueMax = qmax > 0 ? static_cast<size_t>(qmax) : 1;
    st->queueBytesMax = qbytes > 0 ? static_cast<size_t>(qbytes) : 0;
    st->slabMax = info.Length() > 5 && info[5].IsNumber() ? static_cast<size_t>(clampInt(info[5].As<Napi::Number>().DoubleValue(), 0, 4096)) : 0;
    st->ctx = zmq_ctx_new();
    if (!st->ctx) throw Napi::Error::New(env, std::string("zmq_ctx_new: ") + zmq_strerror(zmq_errno()));
    st->sock = zmq_socket(st->ctx, mode == "sub" ? ZMQ_SUB : ZMQ_PULL);
    if (!st->sock) throw Napi::Error::New(env, std::string("zmq_socket: ") + zmq_strerror(zmq_errno()));
    int linger = 0;
    zmq_setsockopt(st->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(st->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (mode == "sub") zmq_setsockopt(st->sock, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(st->sock, address.c_str()) != 0) {
      std::string e = zmq_strerror(zmq_errno());
      throw Napi::Error::New(env, "cannot connect to " + address + ": " + e);  // ~State closes
    }
    State* raw = st.get();
    st->thread = std::thread([raw] { raw->run(); });
    st_ = st;
    std::lock_guard<std::mutex> lk(gLiveMu);
    gLive.insert(st);
  }

  ~Receiver() override { closeState(Env(), true); }

 private:
  void closeState(napi_env env, bool collected = false) {
    if (!st_) return;
    st_->close();
    st_->dropFreeSlabs(env, collected);
    std::lock_guard<std::mutex> lk(gLiveMu);
    gLive.erase(st_);
  }

  // recycle(slot) -> false for a slot that is not in use (never recycled twice).
  Napi::Value Recycle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!st_ || info.Length() < 1 || !info[0].IsNumber()) return Napi::Boolean::New(env, false);
    double slot = info[0].As<Napi::Number>().DoubleValue();
    if (!(slot >= 0) || slot > 1e9 || slot != static_cast<double>(static_cast<int64_t>(slot))) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, st_->recycle(env, static_cast<int64_t>(slot)));
  }

  Napi::Value TryReceiveBatch(const Napi::CallbackInfo& info) {
    size_t max = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
    std::vector<Msg> msgs;
    if (st_ && !st_->closed) st_->take(max, msgs);
    if (!st_) return Napi::Array::New(info.Env(), 0);
    return toJsOrRelease(info.Env(), *st_, msgs);
  }

  Napi::Value ReceiveBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t max = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
    int timeoutMs = info[1].As<Napi::Number>().Int32Value();
    std::vector<Msg> msgs;
    if (st_ && !st_->closed) st_->take(max, msgs);
    if (!msgs.empty() || !st_ || st_->closed) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(st_ ? toJsOrRelease(env, *st_, msgs) : Napi::Array::New(env, 0));
      return d.Promise();
    }
    auto* w = new WaitWorker(env, st_, max, timeoutMs);
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    if (st_) {
      o.Set("received", static_cast<double>(st_->received.load()));
      o.Set("waitsQueueFull", static_cast<double>(st_->waitsFull.load()));
      o.Set("dropped", static_cast<double>(st_->dropped.load()));
      std::lock_guard<std::mutex> lk(st_->mu);
      o.Set("queued", static_cast<double>(st_->queue.size()));
      o.Set("queuedBytes", static_cast<double>(st_->queuedBytes));
      size_t live = 0, free = 0;
      for (const auto& s : st_->slabs) {
        if (s.data != nullptr) live++;
        if (s.data != nullptr && s.free) free++;
      }
      o.Set("slabs", static_cast<double>(live));
      o.Set("slabsFree", static_cast<double>(free));
      o.Set("slabsDropped", static_cast<double>(st_->slabsDropped));
      o.Set("slabOverflows", static_cast<double>(st_->slabOverflows.load()));
    }
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closeState(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<State> st_;
};

// Contexts of closed senders with a linger are terminated on their own detached thread
// (zmq_ctx_term waits up to the linger period while queued messages are delivered). The
// cleanup hook waits for them at a normal exit. They are detached, not joinable, because
// process.exit() skips the cleanup hook, and a joinable std::thread destroyed at exit aborts.
std::mutex gTermMu;
std::condition_variable gTermDone;
size_t gTerminating = 0;

bool isTyped(Napi::Value v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

class Sender : public Napi::ObjectWrap<Sender> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Sender",
                       {InstanceMethod("send", &Sender::Send),
                        InstanceMethod("sendFrames", &Sender::SendFrames),
                        InstanceMethod("endpoint", &Sender::Endpoint),
                        InstanceMethod("close", &Sender::Close)});
  }

  // new Sender(address, 'push'|'pub', 'bind'|'connect', sndHwm, lingerMs)
  explicit Sender(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Sender>(info) {
    Napi::Env env = info.Env();
    std::string address = info[0].As<Napi::String>();
    std::string mode = info[1].As<Napi::String>();
    std::string how = info[2].As<Napi::String>();
    int hwm = clampInt(info[3].As<Napi::Number>().DoubleValue(), 0, 1000000000);
    int linger = clampInt(info[4].As<Napi::Number>().DoubleValue(), 0, 3600000);
    linger_ = linger;
    ctx_ = zmq_ctx_new();
    if (!ctx_) throw Napi::Error::New(env, std::string("zmq_ctx_new: ") + zmq_strerror(zmq_errno()));
    sock_ = zmq_socket(ctx_, mode == "pub" ? ZMQ_PUB : ZMQ_PUSH);
    if (!sock_) {
      std::string e = zmq_strerror(zmq_errno());
      closeSocket();
      throw Napi::Error::New(env, "zmq_socket: " + e);
    }
    zmq_setsockopt(sock_, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock_, ZMQ_LINGER, &linger, sizeof linger);
    int rc = how == "connect" ? zmq_connect(sock_, address.c_str()) : zmq_bind(sock_, address.c_str());
    if (rc != 0) {
      std::string e = zmq_strerror(zmq_errno());
      closeSocket();
      throw Napi::Error::New(env, "cannot " + how + " " + address + ": " + e);
    }
  }

  ~Sender() override { closeSocket(); }

  // Waits (at most maxWait) for lingering contexts to finish delivering.
  static void waitTerminating(std::chrono::milliseconds maxWait) {
    std::unique_lock<std::mutex> lk(gTermMu);
    gTermDone.wait_for(lk, maxWait, [] { return gTerminating == 0; });
  }

 private:
  void closeSocket() {
    if (sock_) {
      zmq_close(sock_);
      sock_ = nullptr;
    }
    if (ctx_) {
      void* ctx = ctx_;
      ctx_ = nullptr;
      if (linger_ == 0) {  // nothing to deliver: returns at once
        zmq_ctx_term(ctx);
        return;
      }
      {
        std::lock_guard<std::mutex> lk(gTermMu);
        gTerminating++;
      }
      std::thread([ctx] {
        zmq_ctx_term(ctx);
        std::lock_guard<std::mutex> lk(gTermMu);
        gTerminating--;
        gTermDone.notify_all();
      }).detach();
    }
  }

  // Sends frame i of n; the first frame without blocking. Returns false only when the first frame
  // would block (nothing sent). Later frames of a started message cannot block in libzmq (the HWM
  // counts whole messages), but are retried blocking if they ever do, so a message is never cut.
  bool sendPart(Napi::Env env, const void* p, size_t n, size_t i, size_t count) {
    int flags = (i + 1 < count ? ZMQ_SNDMORE : 0) | (i == 0 ? ZMQ_DONTWAIT : 0);
    for (;;) {
      if (zmq_send(sock_, p, n, flags) >= 0) return true;
      int e = zmq_errno();
      if (e == EINTR) continue;
      if (e == EAGAIN && i == 0) return false;
      if (e == EAGAIN) {
        flags &= ~ZMQ_DONTWAIT;
        continue;
      }
      throw Napi::Error::New(env, std::string("zmq_send: ") + zmq_strerror(e));
    }
  }

  void requireOpen(Napi::Env env) {
    if (!sock_) throw Napi::Error::New(env, "the sender is closed");
  }

  // send(data: Uint8Array, offsets: Uint32Array) → true when sent, false when it would block.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireOpen(env);
    if (!isTyped(info[0], napi_uint8_array) || !isTyped(info[1], napi_uint32_array)) {
      throw Napi::TypeError::New(env, "send(data: Uint8Array, offsets: Uint32Array)");
    }
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    Napi::Uint32Array offs = info[1].As<Napi::Uint32Array>();
    size_t n = offs.ElementLength();
    if (n < 2) throw Napi::RangeError::New(env, "offsets must have at least 2 entries (frames + 1)");
    const uint32_t* o = offs.Data();
    if (o[n - 1] > data.ByteLength()) throw Napi::RangeError::New(env, "offsets point past the end of data");
    for (size_t i = 0; i + 1 < n; i++) {
      if (o[i] > o[i + 1]) throw Napi::RangeError::New(env, "offsets must not decrease");
    }
    const uint8_t* base = data.Data();
    size_t frames = n - 1;
    for (size_t i = 0; i < frames; i++) {
      if (!sendPart(env, base + o[i], o[i + 1] - o[i], i, frames)) return Napi::Boolean::New(env, false);
    }
    return Napi::Boolean::New(env, true);
  }

  // sendFrames(frames: Uint8Array[]) → true when sent, false when it would block.
  Napi::Value SendFrames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireOpen(env);
    if (!info[0].IsArray()) throw Napi::TypeError::New(env, "sendFrames(frames: Uint8Array[])");
    Napi::Array arr = info[0].As<Napi::Array>();
    uint32_t count = arr.Length();
    if (count == 0) throw Napi::RangeError::New(env, "a message has at least one frame");
    // All values first, then the pointers with no JS running in between (a getter could
    // otherwise detach a buffer whose pointer was already taken).
    std::vector<Napi::Value> values(count);
    for (uint32_t i = 0; i < count; i++) {
      values[i] = arr.Get(i);
      if (!isTyped(values[i], napi_uint8_array)) throw Napi::TypeError::New(env, "frame " + std::to_string(i) + " is not a Uint8Array");
    }
    std::vector<std::pair<const uint8_t*, size_t>> parts(count);
    for (uint32_t i = 0; i < count; i++) {
      Napi::Uint8Array f = values[i].As<Napi::Uint8Array>();
      parts[i] = {f.Data(), f.ByteLength()};
    }
    for (uint32_t i = 0; i < count; i++) {
      if (!sendPart(env, parts[i].first, parts[i].second, i, count)) return Napi::Boolean::New(env, false);
    }
    return Napi::Boolean::New(env, true);
  }

  Napi::Value Endpoint(const Napi::CallbackInfo& info) {
    if (!sock_) return Napi::String::New(info.Env(), "");
    char buf[256];
    size_t len = sizeof buf;
    if (zmq_getsockopt(sock_, ZMQ_LAST_ENDPOINT, buf, &len) != 0) return Napi::String::New(info.Env(), "");
    return Napi::String::New(info.Env(), std::string(buf, len > 0 && buf[len - 1] == 0 ? len - 1 : len));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closeSocket();
    return info.Env().Undefined();
  }

  void* ctx_ = nullptr;
  void* sock_ = nullptr;
  int linger_ = 0;
};

void cleanup(void*) {
  std::set<std::shared_ptr<State>> live;
  {
    std::lock_guard<std::mutex> lk(gLiveMu);
    live.swap(gLive);
  }
  for (auto& s : live) s->close();
  Sender::waitTerminating(std::chrono::milliseconds(60000));
}

}  // namespace

void InitZmqTransport(Napi::Env env, Napi::Object exports) {
  exports.Set("ZmqReceiver", Receiver::Init(env));
  exports.Set("ZmqSender", Sender::Init(env));
  int a, b, c;
  zmq_version(&a, &b, &c);
  exports.Set("zmqVersion", Napi::String::New(env, std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c)));
  napi_add_env_cleanup_hook(env, cleanup, nullptr);
}
