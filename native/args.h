// Argument checks shared by every exported function: each reads and checks the arguments of one
// call before doing anything, and every failure is a TypeError or RangeError (errors.h) naming
// the function and the argument: "fn: argument 2 (elemSize) must be a number".
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "errors.h"

namespace sf {

// Bytes of a Uint8Array argument, no copy. `data` is never null (an empty or detached array may
// have no backing store; decoders are then given a valid pointer all the same).
struct ByteView {
  const uint8_t* data;
  size_t len;
};

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), env_(info.Env()), fn_(fn) {}
  Napi::Env Env() const { return env_; }
  const char* Fn() const { return fn_; }
  size_t Length() const { return info_.Length(); }
  Napi::Value Raw(size_t i) const { return info_[i]; }
  bool IsUndefined(size_t i) const { return i >= info_.Length() || info_[i].IsUndefined(); }

  std::string String(size_t i, const char* what) const;
  // A non-empty string without NUL characters (a path or a name).
  std::string Name(size_t i, const char* what) const;
  bool Bool(size_t i, const char* what) const;
  double Number(size_t i, const char* what) const;
  // A number, or `fallback` when the argument is absent or not a number (optional settings).
  double NumberOr(size_t i, double fallback) const {
    return i < info_.Length() && info_[i].IsNumber() ? info_[i].As<Napi::Number>().DoubleValue() : fallback;
  }
  // A non-negative integer <= 2^53 (TypeError otherwise).
  uint64_t Count(size_t i, const char* what) const;
  // A number (TypeError otherwise) that is an integer from min to max (RangeError otherwise).
  uint64_t Integer(size_t i, const char* what, uint64_t min, uint64_t max) const;
  // A Uint8Array (a Buffer is one).
  ByteView Uint8(size_t i, const char* what) const;
  // A typed array of exactly `type`; `expected` names it for the message ("a Uint32Array").
  Napi::TypedArray Typed(size_t i, const char* what, napi_typedarray_type type, const char* expected) const;
  Napi::Buffer<uint8_t> Buffer(size_t i, const char* what) const;
  Napi::Array Array(size_t i, const char* what) const;

  [[noreturn]] void TypeFail(size_t i, const char* what, const char* expected) const;
  // A RangeError "fn: message".
  [[noreturn]] void RangeFail(const std::string& message) const;

 protected:
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* fn_;
};

// Whether v is a typed array of exactly `type`.
inline bool IsTyped(Napi::Value v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

}  // namespace sf
