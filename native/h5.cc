// libhdf5 bindings: entry point, errors, argument checks, element types and the handle table.
// The functions themselves live in h5_file.cc (files, groups, links, scalar strings),
// h5_dataset.cc (datasets: append, direct chunk write, resize, read) and h5_attr.cc.
#include "h5_common.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <memory>

namespace h5 {

// ---- thread ownership -----------------------------------------------------------------------

static bool g_initialized = false;
// A file whose H5Fclose failed (a full disk...) stays half-open inside libhdf5, and libhdf5's
// own shutdown then crashes closing it again (SIGSEGV in H5F__close_cb). We shut the library
// down ourselves at exit, and not at all after such a failure: the OS releases the rest.
static bool g_closeFailed = false;
static std::thread::id g_owner;

void CheckThread(Napi::Env env) {
  if (!g_initialized || std::this_thread::get_id() != g_owner) {
    Throw(env, "H5_ERR", "libhdf5 may only be used from the thread that first loaded the addon (the main thread)");
  }
}

// ---- errors ---------------------------------------------------------------------------------

namespace {
struct StackEntry {
  std::string func;
  std::string desc;
  std::string minor;
};

herr_t WalkCb(unsigned, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<StackEntry>*>(data);
  StackEntry s;
  if (e->func_name != nullptr) s.func = e->func_name;
  if (e->desc != nullptr) s.desc = e->desc;
  char buf[256];
  if (H5Eget_msg(e->min_num, nullptr, buf, sizeof buf) > 0) s.minor = buf;
  out->push_back(std::move(s));
  return 0;
}
}  // namespace

void Fail(Napi::Env env, const char* fn, const std::string& context) {
  std::vector<StackEntry> stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, WalkCb, &stack);
  H5Eclear2(H5E_DEFAULT);
  std::string msg = std::string(fn) + " failed";
  if (!context.empty()) msg += " (" + context + ")";
  if (!stack.empty()) {
    // The outermost entry says what the API call was doing, the innermost why it failed.
    msg += ": " + stack.front().desc;
    if (stack.size() > 1) {
      const StackEntry& inner = stack.back();
      msg += "; " + inner.func + ": " + inner.desc;
      if (!inner.minor.empty() && inner.minor != inner.desc) msg += " (" + inner.minor + ")";
    }
  } else {
    msg += ": no HDF5 error stack";
  }
  Napi::Error err = sf::CodedError(env, "H5_ERR", msg, "h5Function", fn);
  Napi::Array arr = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); i++) {
    std::string line = stack[i].func + ": " + stack[i].desc;
    if (!stack[i].minor.empty()) line += " (" + stack[i].minor + ")";
    arr.Set(static_cast<uint32_t>(i), Napi::String::New(env, line));
  }
  err.Set("h5Stack", arr);
  throw err;
}

// ---- identifiers ----------------------------------------------------------------------------

Hid MakeSpace(Napi::Env env, const std::vector<hsize_t>& dims, const std::vector<hsize_t>* maxDims) {
  if (dims.empty()) return Hid(CheckId(env, H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  return Hid(CheckId(env, H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxDims ? maxDims->data() : nullptr),
                     "H5Screate_simple"),
             H5Sclose);
}

Hid MakePlist(Napi::Env env, hid_t cls, const char* what) {
  return Hid(CheckId(env, H5Pcreate(cls), "H5Pcreate", what), H5Pclose);
}

Hid MakeLcpl(Napi::Env env) {
  Hid lcpl = MakePlist(env, H5P_LINK_CREATE, "link creation");
  Check(env, H5Pset_create_intermediate_group(lcpl, 1), "H5Pset_create_intermediate_group");
  Check(env, H5Pset_char_encoding(lcpl, H5T_CSET_UTF8), "H5Pset_char_encoding");
  return lcpl;
}

Hid MakeVlenStringType(Napi::Env env) {
  Hid t(CheckId(env, H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  Check(env, H5Tset_size(t, H5T_VARIABLE), "H5Tset_size");
  Check(env, H5Tset_cset(t, H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

// ---- reading -------------------------------------------------------------------------------

Napi::Array DimsToJs(Napi::Env env, const std::vector<hsize_t>& dims) {
  Napi::Array arr = Napi::Array::New(env, dims.size());
  for (size_t k = 0; k < dims.size(); k++) {
    double v = dims[k] == H5S_UNLIMITED ? INFINITY : static_cast<double>(dims[k]);
    arr.Set(static_cast<uint32_t>(k), Napi::Number::New(env, v));
  }
  return arr;
}

Napi::Array ReadStringValues(Napi::Env env, hid_t fileType, hid_t space, uint64_t n, const std::string& path,
                             const char* readName, const StringRead& read) {
  Napi::Array out = Napi::Array::New(env, n);
  if (n == 0) return out;
  htri_t isVlen = H5Tis_variable_str(fileType);
  if (isVlen < 0) Fail(env, "H5Tis_variable_str", path);
  H5T_cset_t cset = H5Tget_cset(fileType);
  if (isVlen > 0) {
    Hid memType(CheckId(env, H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
    Check(env, H5Tset_size(memType, H5T_VARIABLE), "H5Tset_size");
    Check(env, H5Tset_cset(memType, cset == H5T_CSET_UTF8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), "H5Tset_cset");
    std::vector<char*> ptrs(n, nullptr);
    Check(env, read(memType, ptrs.data()), readName, path);
    for (uint64_t k = 0; k < n; k++) out.Set(static_cast<uint32_t>(k), Napi::String::New(env, ptrs[k] == nullptr ? "" : ptrs[k]));
    H5Dvlen_reclaim(memType, space, H5P_DEFAULT, ptrs.data());
    return out;
  }
  size_t size = H5Tget_size(fileType);
  if (size == 0) Fail(env, "H5Tget_size", path);
  H5T_str_t pad = H5Tget_strpad(fileType);
  Hid memType(CheckId(env, H5Tcopy(fileType), "H5Tcopy"), H5Tclose);
  std::vector<char> buf(size * n);
  Check(env, read(memType, buf.data()), readName, path);
  for (uint64_t k = 0; k < n; k++) {
    const char* s = buf.data() + k * size;
    size_t len = size;
    if (pad == H5T_STR_SPACEPAD) {
      while (len > 0 && s[len - 1] == ' ') len--;
    } else {
      len = strnlen(s, size);
    }
    out.Set(static_cast<uint32_t>(k), Napi::String::New(env, s, len));
  }
  return out;
}

// ---- element types --------------------------------------------------------------------------

static const char* const kTypeNames[kNumTypeCount] = {"int8",  "uint8",  "int16", "uint16",  "int32",  "uint32",
                                                      "int64", "uint64", "float32", "float64", "bool"};
static const size_t kTypeSizes[kNumTypeCount] = {1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 1};

// The boolean enum, made once (on the thread that owns libhdf5) and kept for the process.
static hid_t BoolType() {
  static hid_t type = -1;
  if (type < 0) {
    hid_t t = H5Tenum_create(H5T_STD_I8LE);
    int8_t v = 0;
    if (t >= 0 && H5Tenum_insert(t, "FALSE", &v) >= 0) {
      v = 1;
      if (H5Tenum_insert(t, "TRUE", &v) >= 0 && H5Tlock(t) >= 0) type = t;
    }
    if (type < 0 && t >= 0) H5Tclose(t);
  }
  return type;
}

// Whether an enum type is the boolean one: int8 base, exactly FALSE = 0 and TRUE = 1.
static bool IsBoolEnum(hid_t type) {
  if (H5Tget_size(type) != 1 || H5Tget_nmembers(type) != 2) return false;
  int8_t v = 0;
  if (H5Tenum_valueof(type, "FALSE", &v) < 0 || v != 0 || H5Tenum_valueof(type, "TRUE", &v) < 0 || v != 1) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return true;
}

const char* NumTypeName(NumType t) { return kTypeNames[static_cast<int>(t)]; }
size_t NumTypeSize(NumType t) { return kTypeSizes[static_cast<int>(t)]; }

hid_t NumTypeH5(NumType t) {
  switch (t) {
    case NumType::Int8: return H5T_STD_I8LE;
    case NumType::Uint8: return H5T_STD_U8LE;
    case NumType::Int16: return H5T_STD_I16LE;
    case NumType::Uint16: return H5T_STD_U16LE;
    case NumType::Int32: return H5T_STD_I32LE;
    case NumType::Uint32: return H5T_STD_U32LE;
    case NumType::Int64: return H5T_STD_I64LE;
    case NumType::Uint64: return H5T_STD_U64LE;
    case NumType::Float32: return H5T_IEEE_F32LE;
    case NumType::Float64: return H5T_IEEE_F64LE;
    case NumType::Bool: return BoolType();
  }
  return H5T_STD_U8LE;
}

bool ParseNumType(const std::string& name, NumType* out) {
  for (int i = 0; i < kNumTypeCount; i++) {
    if (name == kTypeNames[i]) {
      *out = static_cast<NumType>(i);
      return true;
    }
  }
  return false;
}

bool NumTypeFromH5(hid_t type, NumType* out) {
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  if (cls == H5T_INTEGER) {
    bool isSigned = H5Tget_sign(type) == H5T_SGN_2;
    switch (size) {
      case 1: *out = isSigned ? NumType::Int8 : NumType::Uint8; return true;
      case 2: *out = isSigned ? NumType::Int16 : NumType::Uint16; return true;
      case 4: *out = isSigned ? NumType::Int32 : NumType::Uint32; return true;
      case 8: *out = isSigned ? NumType::Int64 : NumType::Uint64; return true;
      default: return false;
    }
  }
  if (cls == H5T_FLOAT) {
    if (size == 4) { *out = NumType::Float32; return true; }
    if (size == 8) { *out = NumType::Float64; return true; }
    return false;
  }
  if (cls == H5T_ENUM) {
    if (IsBoolEnum(type)) {
      *out = NumType::Bool;
      return true;
    }
    // Another enum (written by someone else): read as its base integer.
    Hid base(H5Tget_super(type), H5Tclose);
    if (base.get() < 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    return NumTypeFromH5(base, out);
  }
  return false;
}

// ---- argument checks ------------------------------------------------------------------------

int64_t Args::Handle(size_t i, const char* what) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) TypeFail(i, what, "a handle");
  double d = info_[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 1) || d > 9007199254740992.0 || std::floor(d) != d) TypeFail(i, what, "a handle");
  return static_cast<int64_t>(d);
}

std::vector<hsize_t> Args::Dims(size_t i, const char* what, uint64_t minValue) const {
  Napi::Array a = Array(i, what);
  uint32_t n = a.Length();
  if (n > 31) ThrowRange(env_, std::string(fn_) + ": " + what + " has more than 31 dimensions");
  std::vector<hsize_t> dims(n);
  for (uint32_t k = 0; k < n; k++) {
    Napi::Value v = a.Get(k);
    if (!v.IsNumber()) TypeFail(i, what, "an array of integers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d > 9007199254740992.0 || std::floor(d) != d) TypeFail(i, what, "an array of non-negative integers");
    if (d < static_cast<double>(minValue)) {
      ThrowRange(env_, std::string(fn_) + ": " + what + " entries must be >= " + std::to_string(minValue));
    }
    dims[k] = static_cast<hsize_t>(d);
  }
  return dims;
}

NumType Args::Type(size_t i, const char* what) const {
  std::string s = String(i, what);
  NumType t;
  if (!ParseNumType(s, &t)) TypeFail(i, what, "one of int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64, bool");
  return t;
}

// ---- handle table ---------------------------------------------------------------------------

std::string TakeStackText() {
  std::vector<StackEntry> stack;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, WalkCb, &stack);
  H5Eclear2(H5E_DEFAULT);
  std::string s;
  for (auto& e : stack) s += (s.empty() ? "" : "; ") + e.func + ": " + e.desc;
  return s;
}

// Handles index this table directly (slot 0 unused); a closed handle leaves an empty slot and
// handles are never reused, so a stale handle can only ever be "closed".
static std::vector<std::unique_ptr<Object>> g_objects(1);

static Object* Find(int64_t handle) {
  if (handle < 1 || static_cast<uint64_t>(handle) >= g_objects.size()) return nullptr;
  return g_objects[static_cast<size_t>(handle)].get();
}

int64_t Register(Object obj) {
  int64_t h = static_cast<int64_t>(g_objects.size());
  if (obj.kind == Kind::Dataset) {
    Object* f = Find(obj.file);
    if (f != nullptr) f->children.push_back(h);
  }
  g_objects.push_back(std::make_unique<Object>(std::move(obj)));
  return h;
}

Object& Lookup(Napi::Env env, int64_t handle, Kind kind, const char* fn) {
  Object* o = Find(handle);
  if (o == nullptr) {
    if (handle >= 1 && static_cast<uint64_t>(handle) < g_objects.size()) {
      Throw(env, "H5_ERR_CLOSED", std::string(fn) + ": the " + (kind == Kind::File ? "file" : "dataset") + " is closed");
    }
    ThrowType(env, std::string(fn) + ": unknown handle");
  }
  if (o->kind != kind) ThrowType(env, std::string(fn) + ": handle is not a " + (kind == Kind::File ? "file" : "dataset"));
  return *o;
}

bool CloseDataset(int64_t handle, std::string* error) {
  Object* o = Find(handle);
  if (o == nullptr || o->kind != Kind::Dataset) return false;
  std::string flushError;
  if (!FlushDataset(*o, &flushError) && error != nullptr && error->empty()) {
    *error = "writing the last " + std::to_string(o->pendingRows) + " rows of " + o->path + " failed: " + flushError;
  }
  std::unique_ptr<Object> owned = std::move(g_objects[static_cast<size_t>(handle)]);
  Object* f = Find(owned->file);
  if (f != nullptr) {
    auto& ch = f->children;
    for (size_t k = 0; k < ch.size(); k++) {
      if (ch[k] == handle) {
        ch[k] = ch.back();
        ch.pop_back();
        break;
      }
    }
  }
  if (H5Dclose(owned->id) < 0 && error != nullptr && error->empty()) *error = "H5Dclose failed: " + TakeStackText();
  return true;
}

bool CloseFile(int64_t handle, std::string* error) {
  Object* o = Find(handle);
  if (o == nullptr || o->kind != Kind::File) return false;
  // Taken out of the file first: CloseDataset would otherwise search the list for each one
  // (quadratic in the number of datasets).
  std::vector<int64_t> children;
  children.swap(o->children);
  for (int64_t c : children) CloseDataset(c, error);
  std::unique_ptr<Object> owned = std::move(g_objects[static_cast<size_t>(handle)]);
  if (H5Fclose(owned->id) < 0) {
    g_closeFailed = true;
    if (error != nullptr && error->empty()) *error = "H5Fclose failed: " + TakeStackText();
  }
  return true;
}

static void CloseAll() {
  for (size_t h = 1; h < g_objects.size(); h++) {
    if (g_objects[h] && g_objects[h]->kind == Kind::File) CloseFile(static_cast<int64_t>(h), nullptr);
  }
  for (size_t h = 1; h < g_objects.size(); h++) {
    if (g_objects[h]) CloseDataset(static_cast<int64_t>(h), nullptr);
  }
}

void Export(Napi::Env env, Napi::Object exports, const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace h5

// Called once per Node environment (main thread and any worker that loads the addon). Only the
// first caller's thread may use libhdf5; the functions exist everywhere but throw elsewhere.
void InitH5(Napi::Env env, Napi::Object exports) {
  if (!h5::g_initialized) {
    h5::g_initialized = true;
    h5::g_owner = std::this_thread::get_id();
    H5dont_atexit();
    H5open();
    // Silence HDF5's own printing; failures are collected with H5Ewalk2 and thrown instead.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    // Safety nets: an environment that goes away with files still open closes (and so flushes)
    // them; so does process.exit() or an uncaught exception, which skip the cleanup hooks but run
    // atexit handlers. libhdf5 registers no atexit handler of its own (H5dont_atexit): ours shuts
    // it down. Explicit close() remains the contract.
    env.AddCleanupHook([]() { h5::CloseAll(); });
    std::atexit([]() {
      if (std::this_thread::get_id() != h5::g_owner) return;
      h5::CloseAll();
      if (!h5::g_closeFailed) H5close();
    });
  }
  h5::InitFile(env, exports);
  h5::InitDataset(env, exports);
  h5::InitAttr(env, exports);
}
