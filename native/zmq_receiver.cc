// Receiver: the JS class ZmqReceiver over a State (zmq_transport.h).
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "args.h"
#include "zmq_transport.h"

namespace zmqt {

namespace {

// Live receivers, closed by the env cleanup hook at process exit.
std::mutex gLiveMu;
std::set<std::shared_ptr<State>> gLive;

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

  // new Receiver(address, mode 'pull'|'sub', rcvHwm, queueMessages, queueBytes, slabs = 0, reader = 'libzmq'|'zmtp',
  //              zmtpHandshakeMs = 30000)
  explicit Receiver(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Receiver>(info) {
    sf::Args a(info, "ZmqReceiver");
    Napi::Env env = a.Env();
    std::string address = a.String(0, "address");
    std::string mode = a.String(1, "mode");
    int hwm = clampInt(a.Number(2, "highWaterMark"), 0, 1000000000);
    int qmax = clampInt(a.Number(3, "queueMessages"), 1, 1000000000);
    // queueBytes and slabs: anything but a usable number means none.
    double qbytes = a.NumberOr(4, 0);
    if (!(qbytes > 0) || qbytes > 1e15) qbytes = 0;  // NaN, ≤ 0 or absurd: no byte bound
    auto st = std::make_shared<State>();
    st->queueMax = qmax > 0 ? static_cast<size_t>(qmax) : 1;
    st->queueBytesMax = qbytes > 0 ? static_cast<size_t>(qbytes) : 0;
    st->slabMax = static_cast<size_t>(clampInt(a.NumberOr(5, 0), 0, 4096));
    std::string reader = info.Length() > 6 && info[6].IsString() ? info[6].As<Napi::String>().Utf8Value() : "libzmq";
    if (reader == "zmtp") {
      // The addon's own ZMTP reader (zmtp_reader.cc): a PULL input from tcp://host:port only.
      if (mode != "pull") sf::ThrowRange(env, "the zmtp reader receives in pull mode only, not " + mode);
      if (address.rfind("tcp://", 0) != 0) sf::ThrowRange(env, "the zmtp reader connects to tcp:// addresses only, not " + address);
      std::string hostPort = address.substr(6);
      size_t colon = hostPort.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == hostPort.size()) sf::ThrowRange(env, "cannot connect to " + address + ": expected tcp://host:port");
      std::string host = hostPort.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
      if (host == "*") sf::ThrowRange(env, "cannot connect to " + address + ": * is for binding, name the host");
      st->zmtp = true;
      st->zmtpHost = host;
      st->zmtpPort = hostPort.substr(colon + 1);
      // libzmq's receive HWM buffered that many messages before our queue; the reader has no
      // pipe of its own, so its queue holds them instead (the byte bound still applies). Not
      // for a recycling receiver: its consumer sized the slabs to hold the whole queue.
      if (st->slabMax == 0) st->queueMax += static_cast<size_t>(hwm);
      st->zmtpHandshakeMs = clampInt(a.NumberOr(7, 30000), 1, 3600000);
      st->wakeFd = eventfd(0, EFD_CLOEXEC);
      if (st->wakeFd < 0) ThrowZmq(env, std::string("eventfd: ") + std::strerror(errno), "eventfd");
    } else if (reader != "libzmq") {
      sf::ThrowRange(env, "reader must be 'libzmq' or 'zmtp', not " + reader);
    } else {
      st->ctx = zmq_ctx_new();
      if (!st->ctx) ThrowZmq(env, std::string("zmq_ctx_new: ") + zmq_strerror(zmq_errno()), "zmq_ctx_new");
      st->sock = zmq_socket(st->ctx, mode == "sub" ? ZMQ_SUB : ZMQ_PULL);
      if (!st->sock) ThrowZmq(env, std::string("zmq_socket: ") + zmq_strerror(zmq_errno()), "zmq_socket");
      int linger = 0;
      zmq_setsockopt(st->sock, ZMQ_LINGER, &linger, sizeof linger);
      zmq_setsockopt(st->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
      if (mode == "sub") zmq_setsockopt(st->sock, ZMQ_SUBSCRIBE, "", 0);
      if (zmq_connect(st->sock, address.c_str()) != 0) {
        std::string e = zmq_strerror(zmq_errno());
        ThrowZmq(env, "cannot connect to " + address + ": " + e, "zmq_connect");  // ~State closes
      }
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
    sf::Args a(info, "recycle");
    Napi::Env env = a.Env();
    double slot = a.NumberOr(0, -1);
    if (!st_ || !(slot >= 0) || slot > 1e9 || slot != static_cast<double>(static_cast<int64_t>(slot))) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, st_->recycle(env, static_cast<int64_t>(slot)));
  }

  // tryReceiveBatch(max) -> messages already queued, at most max.
  Napi::Value TryReceiveBatch(const Napi::CallbackInfo& info) {
    sf::Args a(info, "tryReceiveBatch");
    a.Number(0, "max");
    size_t max = static_cast<size_t>(a.Raw(0).As<Napi::Number>().Int64Value());
    std::vector<Msg> msgs;
    if (st_ && !st_->closed) st_->take(max, msgs);
    if (!st_) return Napi::Array::New(info.Env(), 0);
    return toJsOrRelease(info.Env(), *st_, msgs);
  }

  // receiveBatch(max, timeoutMs) -> Promise of up to max messages, [] after timeoutMs.
  Napi::Value ReceiveBatch(const Napi::CallbackInfo& info) {
    sf::Args a(info, "receiveBatch");
    Napi::Env env = a.Env();
    a.Number(0, "max");
    a.Number(1, "timeoutMs");
    size_t max = static_cast<size_t>(a.Raw(0).As<Napi::Number>().Int64Value());
    int timeoutMs = a.Raw(1).As<Napi::Number>().Int32Value();
    std::vector<Msg> msgs;
    if (st_ && !st_->closed) st_->take(max, msgs);
    if (!msgs.empty() || !st_ || st_->closed) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(st_ ? toJsOrRelease(env, *st_, msgs) : Napi::Array::New(env, 0));
      return d.Promise();
    }
    return QueueWait(env, st_, max, timeoutMs);
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
      if (st_->zmtp) {
        o.Set("connections", static_cast<double>(st_->zmtpConnections.load()));
        o.Set("protocolErrors", static_cast<double>(st_->zmtpErrors.load()));
        o.Set("lastProtocolError", st_->zmtpLastError);
      }
    }
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closeState(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<State> st_;
};

}  // namespace

Napi::Function InitReceiver(Napi::Env env) { return Receiver::Init(env); }

void CloseLiveReceivers() {
  std::set<std::shared_ptr<State>> live;
  {
    std::lock_guard<std::mutex> lk(gLiveMu);
    live.swap(gLive);
  }
  for (auto& s : live) s->close();
}

}  // namespace zmqt
