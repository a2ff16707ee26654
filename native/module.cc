// Entry point of the addon: each area registers its own functions.
// Keep the addon small: only what must be C (kernels), must call libhdf5, or is the per-frame
// ZeroMQ work (zmq_transport.cc), or is a libc setting (malloc_tuning.cc) or call (fs_reserve.cc).
#include <napi.h>

void InitCompression(Napi::Env env, Napi::Object exports);
void InitH5(Napi::Env env, Napi::Object exports);
void InitZmqTransport(Napi::Env env, Napi::Object exports);
void InitMallocTuning(Napi::Env env, Napi::Object exports);
void InitFsReserve(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitCompression(env, exports);
  InitH5(env, exports);
  InitZmqTransport(env, exports);
  InitMallocTuning(env, exports);
  InitFsReserve(env, exports);
  return exports;
}

NODE_API_MODULE(sf_bsread_native, Init)
