// State: one native receiver's socket, receiving thread, bounded queue and slabs, and the
// hand-over of its messages to JS (zmq_transport.h; the design is in zmq_transport.cc).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

#include "zmq_transport.h"

namespace zmqt {

int State::takeSlab(size_t want) {
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

void State::releaseSlab(int slot) {
  std::lock_guard<std::mutex> lk(mu);
  slabs[static_cast<size_t>(slot)].free = true;
}

void State::releaseAll(std::vector<Msg>& msgs) {
  for (auto& m : msgs) {
    if (m.slot >= 0) releaseSlab(m.slot);
    else pool().give(m.data, m.cap);
  }
  msgs.clear();
}

State::~State() {
  close();
  if (wakeFd >= 0) ::close(wakeFd);
}

bool State::full() const {
  if (queue.empty()) return false;
  return queue.size() >= queueMax || (queueBytesMax > 0 && queuedBytes >= queueBytesMax);
}

MessageBuilder::MessageBuilder(State& st) : st_(st) {}

MessageBuilder::~MessageBuilder() { abandon(); }

void MessageBuilder::choose() {
  // The block is chosen once the first part is here: a slab the consumer handed back while the
  // thread waited is then free again. Room for a slightly bigger message than the last, within
  // what may be kept as slack (recycling: a quarter more, as a block may become a slab for the
  // messages to come).
  const bool recycling = st_.slabMax > 0;
  size_t want = recycling ? hint_ + hint_ / 4 + 4096 : hint_ + slackAllowed(hint_) / 2;
  chosen_ = true;
  if (recycling) {
    std::lock_guard<std::mutex> lk(st_.mu);
    slot_ = st_.takeSlab(want);
    if (slot_ >= 0) {
      buf_ = st_.slabs[static_cast<size_t>(slot_)].data;
      cap_ = st_.slabs[static_cast<size_t>(slot_)].cap;
    }
  }
  if (buf_ == nullptr) {
    buf_ = pool().take(want, cap_);
    // Recycling: a block may become a slab, which needs room for bigger messages.
    if (buf_ != nullptr && recycling && cap_ < want) {
      pool().give(buf_, cap_);
      buf_ = nullptr;
    }
  }
  if (buf_ == nullptr) {
    cap_ = want;
    buf_ = static_cast<uint8_t*>(std::malloc(cap_));
  }
  discard_ = buf_ == nullptr;
}

uint8_t* MessageBuilder::part(size_t n) {
  if (!chosen_) choose();
  if (!discard_ && (n > kMaxMessageBytes - total_ || offsets_.size() >= kMaxFrames)) discard_ = true;
  if (!discard_ && total_ + n > cap_) {
    // Grow by half (a block doubled past 1 MB would mostly be given back at the end).
    size_t grown = cap_;
    while (total_ + n > grown) grown = grown > kMaxMessageBytes / 3 * 2 ? kMaxMessageBytes : grown + grown / 2;
    if (slot_ >= 0) {
      // A slab belongs to its ArrayBuffer: move to a block of our own and free the slab.
      st_.slabOverflows++;
      uint8_t* bigger = static_cast<uint8_t*>(std::malloc(grown));
      if (bigger != nullptr) std::memcpy(bigger, buf_, total_);
      st_.releaseSlab(slot_);
      slot_ = -1;
      buf_ = bigger;
      cap_ = bigger != nullptr ? grown : 0;
      if (bigger == nullptr) discard_ = true;
    } else {
      uint8_t* bigger = static_cast<uint8_t*>(std::realloc(buf_, grown));
      if (bigger == nullptr) {
        discard_ = true;
      } else {
        buf_ = bigger;
        cap_ = grown;
      }
    }
  }
  if (discard_) return nullptr;
  offsets_.push_back(static_cast<uint32_t>(total_));
  uint8_t* at = buf_ + total_;
  total_ += n;
  return at;
}

void MessageBuilder::abandon() {
  if (!chosen_) return;
  if (slot_ >= 0) st_.releaseSlab(slot_);
  else if (buf_ != nullptr) pool().give(buf_, cap_);
  reset();
}

void MessageBuilder::reset() {
  chosen_ = false;
  discard_ = false;
  slot_ = -1;
  buf_ = nullptr;
  cap_ = 0;
  total_ = 0;
  offsets_.clear();
}

void MessageBuilder::finish() {
  if (!chosen_) choose();  // a message of no parts cannot come from either reader; kept consistent anyway
  if (discard_) {
    abandon();
    st_.dropped++;
    hint_ = 64 * 1024;
    return;
  }
  offsets_.push_back(static_cast<uint32_t>(total_));
  hint_ = total_ > 4096 ? total_ : 4096;
  st_.lastSize = total_;
  // Give back unused capacity beyond the allowed slack: the ring accounts data.byteLength, so
  // the block must not be much bigger (a failed shrink leaves the block as it was). A slab
  // keeps its size; a recycling receiver's block keeps up to a quarter more.
  const bool recycling = st_.slabMax > 0;
  size_t allowed = recycling ? total_ / 4 + 4096 : slackAllowed(total_);
  if (slot_ < 0 && cap_ - total_ > allowed) {
    // (recycling: an eighth more, so that a slab made of it takes the next, slightly bigger
    // message too)
    size_t exactCap = recycling ? total_ + total_ / 8 + 4096 : total_ > 0 ? total_ : 1;
    uint8_t* exact = static_cast<uint8_t*>(std::realloc(buf_, exactCap));
    if (exact != nullptr) {
      buf_ = exact;
      cap_ = exactCap;
    }
  }
  Msg out;
  out.data = buf_;
  out.size = total_;
  out.cap = cap_;
  out.offsets = offsets_;
  out.slot = slot_;
  reset();
  st_.received++;
  {
    std::lock_guard<std::mutex> lk(st_.mu);
    st_.queuedBytes += out.size;
    st_.queue.push_back(std::move(out));
  }
  st_.notEmpty.notify_one();
}

bool State::waitForRoom() {
  std::unique_lock<std::mutex> lk(mu);
  if (full() && !stopping) waitsFull++;
  notFull.wait(lk, [&] { return stopping || !full(); });
  return !stopping;
}

void State::stopped() {
  pool().removeUser();
  {
    std::lock_guard<std::mutex> lk(mu);
    stopping = true;
  }
  notEmpty.notify_all();
}

void State::run() {
  if (zmtp) {
    runZmtp();
    return;
  }
  // One zmq_msg_t reused for every part (zmq_msg_recv releases its previous content); each part
  // is copied at once into the message's block (one copy).
  zmq_msg_t part;
  zmq_msg_init(&part);
  pool().addUser();
  {
    MessageBuilder mb(*this);
    bool ok = true;
    while (ok && waitForRoom()) {
      // A message that cannot be kept (no memory, or beyond what uint32 offsets and a Node Buffer
      // can address) is still read to its last part, so the next message starts in step, and
      // is then dropped and counted: bad input must never crash the process.
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
        size_t n = zmq_msg_size(&part);
        uint8_t* at = mb.part(n);
        if (at != nullptr) std::memcpy(at, zmq_msg_data(&part), n);
        if (!zmq_msg_more(&part)) break;
      }
      if (ok) mb.finish();
    }
  }
  zmq_msg_close(&part);
  // The socket belongs to this thread: close it here.
  zmq_close(sock);
  sock = nullptr;
  stopped();
}

void State::close() {
  {
    std::lock_guard<std::mutex> lk(mu);
    if (closed) return;
    closed = true;
    stopping = true;
  }
  notFull.notify_all();
  notEmpty.notify_all();
  if (ctx) zmq_ctx_shutdown(ctx);  // blocking zmq_msg_recv returns ETERM
  if (wakeFd >= 0) wakeZmtp();     // the ZMTP reader's poll returns
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

bool State::recycle(napi_env env, int64_t slot) {
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

void State::dropFreeSlabs(napi_env env, bool delivered) {
  std::lock_guard<std::mutex> lk(mu);
  for (size_t i = 0; i < slabs.size(); i++) {
    if (slabs[i].data != nullptr && (slabs[i].free || (delivered && slabs[i].delivered)) && slabRefs[i] != nullptr) {
      slabs[i] = Slab{};
      napi_delete_reference(env, slabRefs[i]);
      slabRefs[i] = nullptr;
    }
  }
}

Napi::Value State::adoptSlab(Napi::Env env, Msg& m) {
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
  if (napi_create_reference(env, ab, 1, &ref) != napi_ok) ThrowZmq(env, "cannot keep a receive slab", "napi_create_reference");
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

void State::take(size_t max, std::vector<Msg>& out) {
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

// One block in this many bytes stays counted as V8 external memory (see toJs).
constexpr size_t kCountedShare = 4;

int clampInt(double v, int lo, int hi) {
  if (!(v >= lo)) return lo;  // also NaN
  return v > hi ? hi : static_cast<int>(v);
}

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
      // block be reused. V8 counts the Buffer's length as external memory and starts a full
      // collection after every 64 MB of it: at 340 MB/s of messages (10,000 channels and two
      // cameras) five a second, ~10 % of a core, for a JavaScript heap of ~12 MB. A message
      // block lives as long as the ring keeps it, so only 1/kCountedShare of its length stays
      // counted (its slack, whole): collections come ~4x less often, and at most ~0.25 GB of
      // dropped blocks wait for one.
      size_t cap = m.cap;
      const int64_t adjust = static_cast<int64_t>(m.cap - m.size) - static_cast<int64_t>(m.size - m.size / kCountedShare);
      Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, m.data, m.size, [cap, adjust](Napi::Env e, uint8_t* p) {
        int64_t ignored;
        if (adjust != 0) napi_adjust_external_memory(e, -adjust, &ignored);
        pool().give(p, cap);
      });
      m.data = nullptr;
      if (adjust != 0) {
        int64_t ignored;
        napi_adjust_external_memory(env, adjust, &ignored);
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

}  // namespace zmqt
