// Placeholder: replaced by the compression kernels (bitshuffle + LZ4).
#include <napi.h>
void InitCompression(Napi::Env, Napi::Object) {}
