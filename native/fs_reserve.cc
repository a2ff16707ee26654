// Disk space held back for closing an HDF5 file on a full disk (src/writer/space-reserve.ts).
// posix_fallocate allocates the blocks without writing them: writing 64 MiB of zeros instead
// cost a file's worth of extra disk bandwidth at every start, competing with the image writes.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include "errors.h"

namespace {

// allocateFile(path, bytes): creates `path` (it must not exist; mode 0600) with `bytes` bytes
// allocated. Throws an Error with code 'FS_ERR' (and nothing is left behind) when it cannot.
Napi::Value AllocateFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) sf::ThrowType(env, "allocateFile: expected (path: string, bytes: number)");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const double bytes = info[1].As<Napi::Number>().DoubleValue();
  if (!(bytes >= 1 && bytes <= 9007199254740992.0)) sf::ThrowType(env, "allocateFile: bytes must be a positive integer");
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) sf::ThrowCoded(env, "FS_ERR", "cannot create " + path + ": " + std::strerror(errno));
  int err = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    unlink(path.c_str());
    sf::ThrowCoded(env, "FS_ERR", "cannot allocate " + std::to_string(static_cast<long long>(bytes)) + " bytes for " + path + ": " + std::strerror(err));
  }
  return env.Undefined();
}

}  // namespace

void InitFsReserve(Napi::Env env, Napi::Object exports) {
  exports.Set("allocateFile", Napi::Function::New(env, AllocateFile, "allocateFile"));
}
