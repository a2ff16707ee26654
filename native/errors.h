// The one way native code reports a failure to JavaScript.
//
// - A failure of a library or of the data (libhdf5, libzmq, a corrupt bitshuffle_lz4 blob) is a
//   plain Error whose `code` says which kind it is ('H5_ERR', 'H5_ERR_CLOSED', 'ZMQ_ERR',
//   'ZMQ_ERR_CLOSED', 'BSREAD_ERR_COMPRESSION', 'LZ4_ERR'); when a library call failed, the
//   property `functionKey` ('h5Function', 'zmqFunction', 'lz4Function') names it. The TypeScript
//   side maps these codes (src/h5/index.ts, src/bsread/compression.ts, src/transport/).
// - A bad argument (a caller's mistake, not data) is a TypeError (wrong type) or RangeError
//   (right type, unusable value) with Node's own codes ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE.
//   args.h checks arguments this way.
//
// NAPI_CPP_EXCEPTIONS is on: these throw C++ exceptions that node-addon-api turns into JS ones.
#pragma once

#include <napi.h>

#include <string>

namespace sf {

// The coded Error itself, for callers that reject a promise instead of throwing.
inline Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message, const char* functionKey = nullptr,
                              const char* function = nullptr) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  if (functionKey != nullptr && function != nullptr) err.Set(functionKey, Napi::String::New(env, function));
  return err;
}

[[noreturn]] inline void ThrowCoded(Napi::Env env, const char* code, const std::string& message, const char* functionKey = nullptr,
                                    const char* function = nullptr) {
  throw CodedError(env, code, message, functionKey, function);
}

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw err;
}

[[noreturn]] inline void ThrowRange(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::RangeError::New(env, message);
  err.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  throw err;
}

}  // namespace sf
