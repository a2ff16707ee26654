// Sender: the JS class ZmqSender, a PUSH/PUB socket used from the JS thread only
// (zmq_transport.h).
#include "args.h"
#include "zmq_transport.h"

namespace zmqt {

namespace {

// Contexts of closed senders with a linger are terminated on their own detached thread
// (zmq_ctx_term waits up to the linger period while queued messages are delivered). The
// cleanup hook waits for them at a normal exit. They are detached, not joinable, because
// process.exit() skips the cleanup hook, and a joinable std::thread destroyed at exit aborts.
std::mutex gTermMu;
std::condition_variable gTermDone;
size_t gTerminating = 0;

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
    sf::Args a(info, "ZmqSender");
    Napi::Env env = a.Env();
    std::string address = a.String(0, "address");
    std::string mode = a.String(1, "mode");
    std::string how = a.String(2, "how");
    int hwm = clampInt(a.Number(3, "highWaterMark"), 0, 1000000000);
    int linger = clampInt(a.Number(4, "lingerMs"), 0, 3600000);
    linger_ = linger;
    ctx_ = zmq_ctx_new();
    if (!ctx_) ThrowZmq(env, std::string("zmq_ctx_new: ") + zmq_strerror(zmq_errno()), "zmq_ctx_new");
    sock_ = zmq_socket(ctx_, mode == "pub" ? ZMQ_PUB : ZMQ_PUSH);
    if (!sock_) {
      std::string e = zmq_strerror(zmq_errno());
      closeSocket();
      ThrowZmq(env, "zmq_socket: " + e, "zmq_socket");
    }
    zmq_setsockopt(sock_, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock_, ZMQ_LINGER, &linger, sizeof linger);
    int rc = how == "connect" ? zmq_connect(sock_, address.c_str()) : zmq_bind(sock_, address.c_str());
    if (rc != 0) {
      std::string e = zmq_strerror(zmq_errno());
      closeSocket();
      ThrowZmq(env, "cannot " + how + " " + address + ": " + e, how == "connect" ? "zmq_connect" : "zmq_bind");
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
      ThrowZmq(env, std::string("zmq_send: ") + zmq_strerror(e), "zmq_send");
    }
  }

  void requireOpen(Napi::Env env) {
    if (!sock_) sf::ThrowCoded(env, "ZMQ_ERR_CLOSED", "the sender is closed");
  }

  // send(data: Uint8Array, offsets: Uint32Array) → true when sent, false when it would block.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    sf::Args a(info, "send");
    Napi::Env env = a.Env();
    requireOpen(env);
    Napi::Uint8Array data = a.Typed(0, "data", napi_uint8_array, "a Uint8Array").As<Napi::Uint8Array>();
    Napi::Uint32Array offs = a.Typed(1, "offsets", napi_uint32_array, "a Uint32Array").As<Napi::Uint32Array>();
    size_t n = offs.ElementLength();
    if (n < 2) sf::ThrowRange(env, "offsets must have at least 2 entries (frames + 1)");
    const uint32_t* o = offs.Data();
    if (o[n - 1] > data.ByteLength()) sf::ThrowRange(env, "offsets point past the end of data");
    for (size_t i = 0; i + 1 < n; i++) {
      if (o[i] > o[i + 1]) sf::ThrowRange(env, "offsets must not decrease");
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
    sf::Args a(info, "sendFrames");
    Napi::Env env = a.Env();
    requireOpen(env);
    Napi::Array arr = a.Array(0, "frames");
    uint32_t count = arr.Length();
    if (count == 0) sf::ThrowRange(env, "a message has at least one frame");
    // All values first, then the pointers with no JS running in between (a getter could
    // otherwise detach a buffer whose pointer was already taken).
    std::vector<Napi::Value> values(count);
    for (uint32_t i = 0; i < count; i++) {
      values[i] = arr.Get(i);
      if (!sf::IsTyped(values[i], napi_uint8_array)) sf::ThrowType(env, "frame " + std::to_string(i) + " is not a Uint8Array");
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

}  // namespace

Napi::Function InitSender(Napi::Env env) { return Sender::Init(env); }

void WaitTerminatingSenders(std::chrono::milliseconds maxWait) { Sender::waitTerminating(maxWait); }

}  // namespace zmqt
