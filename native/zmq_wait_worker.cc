// WaitWorker: receiveBatch's wait for the first message, on a libuv worker thread so that the
// event loop never blocks (zmq_transport.h).
#include "zmq_transport.h"

namespace zmqt {

namespace {

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
    if (msgs_.empty()) pool().trimIdle();  // a quiet stream: give back blocks nobody will take
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (msgs_.empty() && !err_.empty()) {
      deferred_.Reject(ZmqError(env, "zmq receive failed: " + err_, "zmq_msg_recv").Value());
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

}  // namespace

Napi::Promise QueueWait(Napi::Env env, std::shared_ptr<State> st, size_t max, int timeoutMs) {
  auto* w = new WaitWorker(env, std::move(st), max, timeoutMs);  // deletes itself when done
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace zmqt
