// Argument checks shared by every exported function (args.h).
#include "args.h"

#include <cmath>

namespace sf {

namespace {
constexpr double kTwoPow53 = 9007199254740992.0;
}  // namespace

void Args::TypeFail(size_t i, const char* what, const char* expected) const {
  ThrowType(env_, std::string(fn_) + ": argument " + std::to_string(i + 1) + " (" + what + ") must be " + expected);
}

void Args::RangeFail(const std::string& message) const { ThrowRange(env_, std::string(fn_) + ": " + message); }

std::string Args::String(size_t i, const char* what) const {
  if (i >= info_.Length() || !info_[i].IsString()) TypeFail(i, what, "a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

std::string Args::Name(size_t i, const char* what) const {
  std::string s = String(i, what);
  if (s.empty() || s.find('\0') != std::string::npos) TypeFail(i, what, "a non-empty string without NUL characters");
  return s;
}

bool Args::Bool(size_t i, const char* what) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) TypeFail(i, what, "a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

double Args::Number(size_t i, const char* what) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) TypeFail(i, what, "a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

uint64_t Args::Count(size_t i, const char* what) const {
  double d = Number(i, what);
  if (!(d >= 0) || d > kTwoPow53 || std::floor(d) != d) TypeFail(i, what, "a non-negative integer");
  return static_cast<uint64_t>(d);
}

uint64_t Args::Integer(size_t i, const char* what, uint64_t min, uint64_t max) const {
  double d = Number(i, what);
  // The range test comes first: only then is the conversion to uint64_t defined.
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(max)) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    RangeFail(std::string("argument ") + std::to_string(i + 1) + " (" + what + ") must be an integer from " + std::to_string(min) +
              " to " + std::to_string(max));
  }
  return static_cast<uint64_t>(d);
}

ByteView Args::Uint8(size_t i, const char* what) const {
  if (i >= info_.Length() || !IsTyped(info_[i], napi_uint8_array)) TypeFail(i, what, "a Uint8Array");
  Napi::Uint8Array array = info_[i].As<Napi::Uint8Array>();
  static const uint8_t kEmpty[1] = {0};
  const uint8_t* data = array.ByteLength() == 0 || array.Data() == nullptr ? kEmpty : array.Data();
  return ByteView{data, array.ByteLength()};
}

Napi::TypedArray Args::Typed(size_t i, const char* what, napi_typedarray_type type, const char* expected) const {
  if (i >= info_.Length() || !IsTyped(info_[i], type)) TypeFail(i, what, expected);
  return info_[i].As<Napi::TypedArray>();
}

Napi::Buffer<uint8_t> Args::Buffer(size_t i, const char* what) const {
  if (i >= info_.Length() || !info_[i].IsBuffer()) TypeFail(i, what, "a Buffer");
  return info_[i].As<Napi::Buffer<uint8_t>>();
}

Napi::Array Args::Array(size_t i, const char* what) const {
  if (i >= info_.Length() || !info_[i].IsArray()) TypeFail(i, what, "an array");
  return info_[i].As<Napi::Array>();
}

}  // namespace sf
