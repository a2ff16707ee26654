// Attributes on the file root, a group or a dataset: strings, int64, float64 and numeric arrays.
#include "h5_common.h"

#include <cstring>

namespace h5 {
namespace {

Hid OpenObject(Napi::Env env, hid_t file, const std::string& path) {
  return Hid(CheckId(env, H5Oopen(file, path.c_str(), H5P_DEFAULT), "H5Oopen", path), H5Oclose);
}

void WriteAttr(Napi::Env env, hid_t obj, const std::string& where, const std::string& name, hid_t type,
               const std::vector<hsize_t>& dims, const void* data) {
  htri_t exists = H5Aexists(obj, name.c_str());
  if (exists < 0) Fail(env, "H5Aexists", where);
  if (exists > 0) Check(env, H5Adelete(obj, name.c_str()), "H5Adelete", where);
  Hid space = MakeSpace(env, dims);
  Hid acpl = MakePlist(env, H5P_ATTRIBUTE_CREATE, "attribute creation");
  Check(env, H5Pset_char_encoding(acpl, H5T_CSET_UTF8), "H5Pset_char_encoding");
  Hid attr(CheckId(env, H5Acreate2(obj, name.c_str(), type, space, acpl, H5P_DEFAULT), "H5Acreate2", where), H5Aclose);
  uint64_t n = 1;
  for (hsize_t d : dims) n *= d;
  if (n > 0) Check(env, H5Awrite(attr, type, data), "H5Awrite", where);
}

// h5SetAttribute(file, objectPath, name, kind, value[, type]) where kind is
//   'string'  value: string (scalar variable-length UTF-8, as h5py writes str attributes)
//   'int64'   value: bigint or integer number
//   'float64' value: number
//   'array'   value: Buffer / typed array of little-endian bytes, type: element type name (1-D)
// An existing attribute of that name is replaced.
Napi::Value SetAttribute(const Napi::CallbackInfo& info) {
  const char* fn = "h5SetAttribute";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& f = Lookup(env, a.Handle(0, "file"), Kind::File, fn);
  std::string path = a.Name(1, "objectPath");
  std::string name = a.Name(2, "name");
  std::string kind = a.String(3, "kind");
  std::string where = path + " @" + name;
  if (kind == "string") {
    std::string value = a.String(4, "value");
    Hid type = MakeVlenStringType(env);
    const char* p = value.c_str();
    Hid obj = OpenObject(env, f.id, path);
    WriteAttr(env, obj, where, name, type, {}, &p);
  } else if (kind == "int64") {
    int64_t v = 0;
    Napi::Value raw = a.Raw(4);
    if (raw.IsBigInt()) {
      bool lossless = false;
      v = raw.As<Napi::BigInt>().Int64Value(&lossless);
      if (!lossless) ThrowRange(env, std::string(fn) + ": value does not fit in int64");
    } else {
      double d = a.Number(4, "value");
      if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || static_cast<double>(static_cast<int64_t>(d)) != d) {
        ThrowRange(env, std::string(fn) + ": value must be an integer in the int64 range");
      }
      v = static_cast<int64_t>(d);
    }
    Hid obj = OpenObject(env, f.id, path);
    WriteAttr(env, obj, where, name, H5T_STD_I64LE, {}, &v);
  } else if (kind == "float64") {
    double v = a.Number(4, "value");
    Hid obj = OpenObject(env, f.id, path);
    WriteAttr(env, obj, where, name, H5T_IEEE_F64LE, {}, &v);
  } else if (kind == "array") {
    if (a.IsUndefined(4) || !a.Raw(4).IsTypedArray()) a.TypeFail(4, "value", "a Buffer or typed array");
    Napi::TypedArray t = a.Raw(4).As<Napi::TypedArray>();
    NumType type = a.Type(5, "type");
    size_t es = NumTypeSize(type);
    if (t.ByteLength() % es != 0) ThrowRange(env, std::string(fn) + ": byte length is not a multiple of the element size");
    // A zero-length typed array may have no backing store; nothing is written then.
    const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data());
    const void* data = base == nullptr ? nullptr : base + t.ByteOffset();
    std::vector<hsize_t> dims{t.ByteLength() / es};
    Hid obj = OpenObject(env, f.id, path);
    WriteAttr(env, obj, where, name, NumTypeH5(type), dims, data);
  } else {
    a.TypeFail(3, "kind", "'string', 'int64', 'float64' or 'array'");
  }
  return env.Undefined();
}

herr_t NameCb(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

// h5ReadAttributes(file, objectPath) -> [{ name, type, shape, data: Buffer | string[] }]
// type is 'int8'...'float64' (data: little-endian Buffer) or 'string' (data: string[]);
// attributes of other types are reported with type 'other' and no data.
Napi::Value ReadAttributes(const Napi::CallbackInfo& info) {
  const char* fn = "h5ReadAttributes";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& f = Lookup(env, a.Handle(0, "file"), Kind::File, fn);
  std::string path = a.Name(1, "objectPath");
  Hid obj = OpenObject(env, f.id, path);
  std::vector<std::string> names;
  hsize_t idx = 0;
  Check(env, H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, NameCb, &names), "H5Aiterate2", path);
  Napi::Array out = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) {
    const std::string& name = names[i];
    std::string where = path + " @" + name;
    Hid attr(CheckId(env, H5Aopen(obj, name.c_str(), H5P_DEFAULT), "H5Aopen", where), H5Aclose);
    Hid type(CheckId(env, H5Aget_type(attr), "H5Aget_type", where), H5Tclose);
    Hid space(CheckId(env, H5Aget_space(attr), "H5Aget_space", where), H5Sclose);
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) Fail(env, "H5Sget_simple_extent_ndims", where);
    std::vector<hsize_t> dims(rank);
    if (rank > 0) Check(env, H5Sget_simple_extent_dims(space, dims.data(), nullptr), "H5Sget_simple_extent_dims", where);
    uint64_t n = 1;
    for (hsize_t d : dims) n *= d;
    if (H5Sget_simple_extent_type(space) == H5S_NULL) n = 0;
    Napi::Object e = Napi::Object::New(env);
    e.Set("name", name);
    e.Set("shape", DimsToJs(env, dims));
    NumType t;
    if (H5Tget_class(type) == H5T_STRING) {
      e.Set("type", "string");
      hid_t attrId = attr;
      e.Set("data", ReadStringValues(env, type, space, n, where, "H5Aread", [attrId](hid_t memType, void* buf) {
        return H5Aread(attrId, memType, buf);
      }));
    } else if (NumTypeFromH5(type, &t)) {
      e.Set("type", NumTypeName(t));
      Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, n * NumTypeSize(t));
      if (n > 0) Check(env, H5Aread(attr, NumTypeH5(t), buf.Data()), "H5Aread", where);
      e.Set("data", buf);
    } else {
      e.Set("type", "other");
      e.Set("data", env.Null());
    }
    out.Set(static_cast<uint32_t>(i), e);
  }
  return out;
}

}  // namespace

void InitAttr(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "h5SetAttribute", SetAttribute);
  Export(env, exports, "h5ReadAttributes", ReadAttributes);
}

}  // namespace h5
