// Entry point of the addon: each area registers its own functions.
// Keep the addon small: only what must be C (kernels) or must call libhdf5.
#include <napi.h>

void InitCompression(Napi::Env env, Napi::Object exports);
void InitH5(Napi::Env env, Napi::Object exports);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitCompression(env, exports);
  InitH5(env, exports);
  return exports;
}

NODE_API_MODULE(sf_bsread_native, Init)
