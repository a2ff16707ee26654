// glibc malloc settings for the long-running programs (buffer, writer, simulator).
//
// They move ~100 MB/s through buffers of about 1 MB (libzmq's message buffers, our receive
// blocks, HDF5's I/O buffers). With glibc's defaults such a buffer, once freed, goes back to the
// kernel (unmapped, or trimmed off the top of the heap), so the next one is faulted in as fresh
// zeroed pages. On virtual machines whose free memory goes back to the host, a fresh page costs a
// host fault as well: measured here, first touch ran at 0.3-2 GB/s against 30 GB/s for reused
// memory, and the end-to-end run spent ~15 % of a core in it. Keeping freed memory in the process
// (allocations below 32 MiB from the heap, the heap trimmed only past 256 MiB of free top) makes
// the next buffer reuse warm pages.
#include <napi.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace {

constexpr int kMmapThreshold = 32 * 1024 * 1024;  // glibc's maximum for the dynamic threshold
constexpr int kTrimThreshold = 256 * 1024 * 1024;

// keepFreedMemory() -> { mmapThreshold, trimThreshold } (0 where mallopt refused the value).
Napi::Value KeepFreedMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#if defined(__GLIBC__)
  int mmapOk = mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
  int trimOk = mallopt(M_TRIM_THRESHOLD, kTrimThreshold);
#else
  int mmapOk = 0, trimOk = 0;  // not glibc: nothing to set
#endif
  out.Set("mmapThreshold", Napi::Number::New(env, mmapOk == 1 ? kMmapThreshold : 0));
  out.Set("trimThreshold", Napi::Number::New(env, trimOk == 1 ? kTrimThreshold : 0));
  return out;
}

}  // namespace

void InitMallocTuning(Napi::Env env, Napi::Object exports) {
  exports.Set("keepFreedMemory", Napi::Function::New(env, KeepFreedMemory, "keepFreedMemory"));
}
