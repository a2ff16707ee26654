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
//
// The parts, one class per file, are listed in zmq_transport.h; this file registers them.
#include <napi.h>
#include <zmq.h>

#include <string>

#include "zmq_transport.h"

namespace zmqt {

Napi::Error ZmqError(Napi::Env env, const std::string& message, const char* fn) {
  return sf::CodedError(env, "ZMQ_ERR", message, "zmqFunction", fn);
}

namespace {

// At a normal exit: receivers' threads are joined, and lingering senders get up to a minute to
// deliver what they queued.
void cleanup(void*) {
  CloseLiveReceivers();
  WaitTerminatingSenders(std::chrono::milliseconds(60000));
}

}  // namespace

}  // namespace zmqt

void InitZmqTransport(Napi::Env env, Napi::Object exports) {
  exports.Set("ZmqReceiver", zmqt::InitReceiver(env));
  exports.Set("ZmqSender", zmqt::InitSender(env));
  int a, b, c;
  zmq_version(&a, &b, &c);
  exports.Set("zmqVersion", Napi::String::New(env, std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c)));
  napi_add_env_cleanup_hook(env, zmqt::cleanup, nullptr);
}
