// PROTOTYPE (native-wip): a native multipart receive path for bsread.
// A Receiver owns a ZMQ context + PULL/SUB socket and a background thread that receives whole
// multipart messages and copies each into ONE contiguous malloc'd block plus a frame-offset
// table (the buffer's StoredMessage layout). A bounded queue sits between the thread and JS:
// when it is full the thread stops receiving, so ZeroMQ's receive HWM applies back-pressure
// (nothing is ever dropped here). JS pulls batches: tryReceiveBatch(max) (sync, non-blocking)
// or receiveBatch(max, timeoutMs) (a Promise; waits on a worker thread only when the queue is empty).
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

struct Msg {
  uint8_t* data = nullptr;  // malloc'd; ownership passes to the JS Buffer
  size_t size = 0;
  std::vector<uint32_t> offsets;  // frame count + 1 entries
};

struct State {
  void* ctx = nullptr;
  void* sock = nullptr;
  std::thread thread;
  std::mutex mu;
  std::condition_variable notEmpty;
  std::condition_variable notFull;
  std::deque<Msg> queue;
  size_t queueMax = 64;
  bool stopping = false;
  bool closed = false;
  std::string error;  // a receive error other than shutdown, reported to JS once
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> waitsFull{0};

  ~State() { close(); }

  void run() {
    // One zmq_msg_t reused for every part (zmq_msg_recv releases its previous content); each part
    // is copied at once into a growing block, which becomes the message's Buffer (one copy).
    zmq_msg_t part;
    zmq_msg_init(&part);
    std::vector<uint32_t> offsets;
    size_t hint = 64 * 1024;  // capacity for the next message: the last message's size
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu);
        if (queue.size() >= queueMax && !stopping) waitsFull++;
        notFull.wait(lk, [&] { return stopping || queue.size() < queueMax; });
        if (stopping) break;
      }
      size_t cap = hint, total = 0;
      uint8_t* buf = static_cast<uint8_t*>(std::malloc(cap));
      offsets.clear();
      bool ok = true;
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
        if (total + n > cap) {
          while (total + n > cap) cap *= 2;
          buf = static_cast<uint8_t*>(std::realloc(buf, cap));
        }
        offsets.push_back(static_cast<uint32_t>(total));
        std::memcpy(buf + total, zmq_msg_data(&part), n);
        total += n;
        if (!zmq_msg_more(&part)) break;
      }
      if (!ok || buf == nullptr) {
        std::free(buf);
        break;
      }
      offsets.push_back(static_cast<uint32_t>(total));
      hint = total > 4096 ? total : 4096;
      if (cap > total + total / 8 + 4096) buf = static_cast<uint8_t*>(std::realloc(buf, total > 0 ? total : 1));
      Msg out;
      out.data = buf;
      out.size = total;
      out.offsets = offsets;
      received++;
      {
        std::lock_guard<std::mutex> lk(mu);
        queue.push_back(std::move(out));
      }
      notEmpty.notify_one();
    }
    zmq_msg_close(&part);
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
    for (auto& m : queue) std::free(m.data);
    queue.clear();
  }

  // Moves up to max messages out of the queue (caller holds no lock).
  void take(size_t max, std::vector<Msg>& out) {
    {
      std::lock_guard<std::mutex> lk(mu);
      while (!queue.empty() && out.size() < max) {
        out.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    if (!out.empty()) notFull.notify_one();
  }
};

// Live receivers, closed by the env cleanup hook at process exit.
std::mutex gLiveMu;
std::set<std::shared_ptr<State>> gLive;

void freeData(Napi::Env, uint8_t* p) { std::free(p); }

Napi::Value toJs(Napi::Env env, std::vector<Msg>& msgs) {
  Napi::Array arr = Napi::Array::New(env, msgs.size());
  for (size_t i = 0; i < msgs.size(); i++) {
    Msg& m = msgs[i];
    Napi::Buffer<uint8_t> data = Napi::Buffer<uint8_t>::New(env, m.data, m.size, freeData);
    m.data = nullptr;
    Napi::Uint32Array offs = Napi::Uint32Array::New(env, m.offsets.size());
    std::memcpy(offs.Data(), m.offsets.data(), m.offsets.size() * sizeof(uint32_t));
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", data);
    o.Set("offsets", offs);
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

void freeAll(std::vector<Msg>& msgs) {
  for (auto& m : msgs) std::free(m.data);
  msgs.clear();
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, std::shared_ptr<State> st, size_t max, int timeoutMs)
      : Napi::AsyncWorker(env), st_(std::move(st)), max_(max), timeoutMs_(timeoutMs), deferred_(Napi::Promise::Deferred::New(env)) {}
  ~WaitWorker() override { freeAll(msgs_); }
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
    deferred_.Resolve(toJs(env, msgs_));
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
                        InstanceMethod("stats", &Receiver::Stats),
                        InstanceMethod("close", &Receiver::Close)});
  }

  // new Receiver(address, mode 'pull'|'sub', rcvHwm, queueMax)
  explicit Receiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Receiver>(info) {
    Napi::Env env = info.Env();
    std::string address = info[0].As<Napi::String>();
    std::string mode = info[1].As<Napi::String>();
    int hwm = info[2].As<Napi::Number>().Int32Value();
    int qmax = info[3].As<Napi::Number>().Int32Value();
    auto st = std::make_shared<State>();
    st->queueMax = qmax > 0 ? static_cast<size_t>(qmax) : 1;
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

  ~Receiver() override { closeState(); }

 private:
  void closeState() {
    if (!st_) return;
    st_->close();
    std::lock_guard<std::mutex> lk(gLiveMu);
    gLive.erase(st_);
  }

  Napi::Value TryReceiveBatch(const Napi::CallbackInfo& info) {
    size_t max = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
    std::vector<Msg> msgs;
    if (st_ && !st_->closed) st_->take(max, msgs);
    return toJs(info.Env(), msgs);
  }

  Napi::Value ReceiveBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    size_t max = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
    int timeoutMs = info[1].As<Napi::Number>().Int32Value();
    std::vector<Msg> msgs;
    if (st_ && !st_->closed) st_->take(max, msgs);
    if (!msgs.empty() || !st_ || st_->closed) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(toJs(env, msgs));
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
      std::lock_guard<std::mutex> lk(st_->mu);
      o.Set("queued", static_cast<double>(st_->queue.size()));
    }
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closeState();
    return info.Env().Undefined();
  }

  std::shared_ptr<State> st_;
};

void cleanup(void*) {
  std::set<std::shared_ptr<State>> live;
  {
    std::lock_guard<std::mutex> lk(gLiveMu);
    live.swap(gLive);
  }
  for (auto& s : live) s->close();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Receiver", Receiver::Init(env));
  exports.Set("zmqVersion", Napi::String::New(env, [] {
    int a, b, c;
    zmq_version(&a, &b, &c);
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c);
  }()));
  napi_add_env_cleanup_hook(env, cleanup, nullptr);
  return exports;
}

}  // namespace

NODE_API_MODULE(zmq_native_wip, Init)
