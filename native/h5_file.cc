// Files, groups, links and scalar fixed-length strings.
#include "h5_common.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace h5 {
namespace {

Hid MakeFapl(Napi::Env env, bool inMemory, bool forWriting) {
  Hid fapl = MakePlist(env, H5P_FILE_ACCESS, "file access");
  // Closing a file closes whatever is still open in it (we close our datasets first anyway).
  Check(env, H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "H5Pset_fclose_degree");
  if (inMemory) Check(env, H5Pset_fapl_core(fapl, 1 << 20, 0), "H5Pset_fapl_core");
  if (forWriting) {
    // Dirty metadata reaches the file only at a flush (or close), never by eviction in between.
    // An evicted chunk-index node can point at chunks past the end of file recorded at the last
    // flush, and after a kill (SIGKILL, power) such a dataset no longer reads ("addr overflow").
    // Seen with 1000+ rows per dataset between flushes (a writer catching up), more readily
    // since multi-row chunks have no chunk cache. The cache then grows with the metadata written
    // (tens of MB for 15,000 datasets over an hour), which is the price of a readable file.
    H5AC_cache_config_t c;
    c.version = H5AC__CURR_CACHE_CONFIG_VERSION;
    Check(env, H5Pget_mdc_config(fapl, &c), "H5Pget_mdc_config");
    c.evictions_enabled = false;  // needs the adaptive resizing off:
    c.incr_mode = H5C_incr__off;
    c.flash_incr_mode = H5C_flash_incr__off;
    c.decr_mode = H5C_decr__off;
    Check(env, H5Pset_mdc_config(fapl, &c), "H5Pset_mdc_config");
  }
  return fapl;
}

Napi::Value RegisterFile(Napi::Env env, hid_t id, const std::string& path) {
  Object o;
  o.kind = Kind::File;
  o.id = id;
  o.path = path;
  return Napi::Number::New(env, static_cast<double>(Register(std::move(o))));
}

// h5FileCreate(path, overwrite): H5F_ACC_EXCL unless overwrite, then H5F_ACC_TRUNC.
Napi::Value FileCreate(const Napi::CallbackInfo& info) {
  Args a(info, "h5FileCreate");
  std::string path = a.Name(0, "path");
  bool overwrite = a.Bool(1, "overwrite");
  Hid fapl = MakeFapl(a.Env(), false, true);
  hid_t id = CheckId(a.Env(), H5Fcreate(path.c_str(), overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL, H5P_DEFAULT, fapl), "H5Fcreate", path);
  return RegisterFile(a.Env(), id, path);
}

// h5FileCreateInMemory(): a file held in memory only (core driver, no backing store).
Napi::Value FileCreateInMemory(const Napi::CallbackInfo& info) {
  Args a(info, "h5FileCreateInMemory");
  static std::atomic<uint64_t> counter{0};
  std::string name = "sf-bsread-in-memory-" + std::to_string(++counter) + ".h5";
  Hid fapl = MakeFapl(a.Env(), true, true);
  hid_t id = CheckId(a.Env(), H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), "H5Fcreate", name);
  return RegisterFile(a.Env(), id, name);
}

// h5FileOpenReadOnly(path)
Napi::Value FileOpenReadOnly(const Napi::CallbackInfo& info) {
  Args a(info, "h5FileOpenReadOnly");
  std::string path = a.Name(0, "path");
  Hid fapl = MakeFapl(a.Env(), false, false);
  hid_t id = CheckId(a.Env(), H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), "H5Fopen", path);
  return RegisterFile(a.Env(), id, path);
}

// h5FileFlush(file)
Napi::Value FileFlush(const Napi::CallbackInfo& info) {
  Args a(info, "h5FileFlush");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5FileFlush");
  FlushFileDatasets(a.Env(), f, false);
  Check(a.Env(), H5Fflush(f.id, H5F_SCOPE_GLOBAL), "H5Fflush", f.path);
  RecordExtents(a.Env(), f);
  if (f.dropBehind) DropWrittenPages(f);
  return a.Env().Undefined();
}

// h5FileSetDropBehind(file, on): whether big chunks written whole leave the page cache once on
// disk (see DropWrittenPages). Only files of the default (sec2) driver; elsewhere a no-op.
Napi::Value FileSetDropBehind(const Napi::CallbackInfo& info) {
  Args a(info, "h5FileSetDropBehind");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5FileSetDropBehind");
  f.dropBehind = a.Bool(1, "on");
  if (!f.dropBehind) {
    for (auto& ranges : f.writtenOnce) ranges.clear();
  }
  return a.Env().Undefined();
}

// h5FileClose(file): closes the file's open datasets, then the file. Closing twice is a no-op.
Napi::Value FileClose(const Napi::CallbackInfo& info) {
  Args a(info, "h5FileClose");
  std::string error;
  CloseFile(a.Handle(0, "file"), &error);
  if (!error.empty()) Throw(a.Env(), "H5_ERR", error, "H5Fclose");
  return a.Env().Undefined();
}

// Splits "/a/b/c" (or "a/b/c") into its non-empty components.
std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool PathExists(Napi::Env env, hid_t file, const std::string& path) {
  std::string prefix;
  for (const std::string& c : Components(path)) {
    prefix += "/" + c;
    htri_t r = H5Lexists(file, prefix.c_str(), H5P_DEFAULT);
    if (r < 0) Fail(env, "H5Lexists", prefix);
    if (r == 0) return false;
    // A soft link may dangle: the link exists but the object does not.
    htri_t o = H5Oexists_by_name(file, prefix.c_str(), H5P_DEFAULT);
    if (o < 0) Fail(env, "H5Oexists_by_name", prefix);
    if (o == 0) return false;
  }
  return true;
}

// h5GroupCreate(file, path): creates the group and any missing parents; an existing group is fine.
Napi::Value GroupCreate(const Napi::CallbackInfo& info) {
  Args a(info, "h5GroupCreate");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5GroupCreate");
  std::string path = a.Name(1, "path");
  if (Components(path).empty()) return a.Env().Undefined();  // the root group
  if (PathExists(a.Env(), f.id, path)) {
    H5O_info_t oi;
    Check(a.Env(), H5Oget_info_by_name2(f.id, path.c_str(), &oi, H5O_INFO_BASIC, H5P_DEFAULT), "H5Oget_info_by_name2", path);
    if (oi.type != H5O_TYPE_GROUP) Throw(a.Env(), "H5_ERR", "h5GroupCreate: " + path + " exists and is not a group", "H5Gcreate2");
    return a.Env().Undefined();
  }
  Hid lcpl = MakeLcpl(a.Env());
  Hid g(CheckId(a.Env(), H5Gcreate2(f.id, path.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), "H5Gcreate2", path), H5Gclose);
  return a.Env().Undefined();
}

// h5Exists(file, path)
Napi::Value Exists(const Napi::CallbackInfo& info) {
  Args a(info, "h5Exists");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5Exists");
  std::string path = a.Name(1, "path");
  return Napi::Boolean::New(a.Env(), PathExists(a.Env(), f.id, path));
}

// h5Kind(file, path): 'group' | 'dataset' | 'datatype' | 'none'
Napi::Value KindOf(const Napi::CallbackInfo& info) {
  Args a(info, "h5Kind");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5Kind");
  std::string path = a.Name(1, "path");
  if (!PathExists(a.Env(), f.id, path)) return Napi::String::New(a.Env(), "none");
  H5O_info_t oi;
  Check(a.Env(), H5Oget_info_by_name2(f.id, path.c_str(), &oi, H5O_INFO_BASIC, H5P_DEFAULT), "H5Oget_info_by_name2", path);
  const char* k = oi.type == H5O_TYPE_GROUP ? "group" : oi.type == H5O_TYPE_DATASET ? "dataset" : oi.type == H5O_TYPE_NAMED_DATATYPE ? "datatype" : "none";
  return Napi::String::New(a.Env(), k);
}

herr_t ListCb(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

// h5List(file, path): the names of a group's members, in name order.
Napi::Value List(const Napi::CallbackInfo& info) {
  Args a(info, "h5List");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5List");
  std::string path = a.Name(1, "path");
  Hid g(CheckId(a.Env(), H5Gopen2(f.id, path.c_str(), H5P_DEFAULT), "H5Gopen2", path), H5Gclose);
  std::vector<std::string> names;
  hsize_t idx = 0;
  Check(a.Env(), H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, ListCb, &names), "H5Literate", path);
  Napi::Array out = Napi::Array::New(a.Env(), names.size());
  for (size_t i = 0; i < names.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(a.Env(), names[i]));
  return out;
}

// h5Move(file, src, dst): renames a link (open handles on the object stay valid).
Napi::Value Move(const Napi::CallbackInfo& info) {
  Args a(info, "h5Move");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5Move");
  std::string src = a.Name(1, "source");
  std::string dst = a.Name(2, "destination");
  Hid lcpl = MakeLcpl(a.Env());
  Check(a.Env(), H5Lmove(f.id, src.c_str(), f.id, dst.c_str(), lcpl, H5P_DEFAULT), "H5Lmove", src + " -> " + dst);
  return a.Env().Undefined();
}

// h5WriteScalarString(file, path, value): a scalar fixed-length string dataset, length = byte
// length of the UTF-8 value (at least 1), NULLPAD; charset ASCII when the value is ASCII, else UTF-8.
Napi::Value WriteScalarString(const Napi::CallbackInfo& info) {
  Args a(info, "h5WriteScalarString");
  Object& f = Lookup(a.Env(), a.Handle(0, "file"), Kind::File, "h5WriteScalarString");
  std::string path = a.Name(1, "path");
  std::string value = a.String(2, "value");
  bool ascii = true;
  for (unsigned char c : value) {
    if (c >= 0x80) ascii = false;
  }
  std::string bytes = value.empty() ? std::string(1, '\0') : value;
  Hid t(CheckId(a.Env(), H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  Check(a.Env(), H5Tset_size(t, bytes.size()), "H5Tset_size");
  Check(a.Env(), H5Tset_strpad(t, H5T_STR_NULLPAD), "H5Tset_strpad");
  Check(a.Env(), H5Tset_cset(t, ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8), "H5Tset_cset");
  Hid space = MakeSpace(a.Env(), {});
  Hid lcpl = MakeLcpl(a.Env());
  Hid ds(CheckId(a.Env(), H5Dcreate2(f.id, path.c_str(), t, space, lcpl, H5P_DEFAULT, H5P_DEFAULT), "H5Dcreate2", path), H5Dclose);
  Check(a.Env(), H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()), "H5Dwrite", path);
  return a.Env().Undefined();
}

}  // namespace

void InitFile(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "h5FileCreate", FileCreate);
  Export(env, exports, "h5FileCreateInMemory", FileCreateInMemory);
  Export(env, exports, "h5FileOpenReadOnly", FileOpenReadOnly);
  Export(env, exports, "h5FileFlush", FileFlush);
  Export(env, exports, "h5FileSetDropBehind", FileSetDropBehind);
  Export(env, exports, "h5FileClose", FileClose);
  Export(env, exports, "h5GroupCreate", GroupCreate);
  Export(env, exports, "h5Exists", Exists);
  Export(env, exports, "h5Kind", KindOf);
  Export(env, exports, "h5List", List);
  Export(env, exports, "h5Move", Move);
  Export(env, exports, "h5WriteScalarString", WriteScalarString);
}

// A writer streaming images at 100 MB/s and more would otherwise fill the page cache with data
// it never reads again: every written page stays cached, and each new one is a fresh page (on
// virtual machines that hand free memory back to the host, a host fault as well; measured, the
// copy into the page cache was ~35 % of the writer's CPU at 110 MB/s). Chunks written whole are
// asked out in steps: at the flush after their write, POSIX_FADV_DONTNEED starts their writeback
// (dirty pages cannot be dropped); at the next flush, clean by then, they are dropped, and once
// more at the flush after that for pages whose writeback took longer. Only such chunks: a page
// still being appended to (small datasets, metadata) would have to be read back from disk by
// the next write.
void DropWrittenPages(Object& file) {
  auto& w = file.writtenOnce;
  if (w[0].empty() && w[1].empty() && w[2].empty()) return;
  bool onDisk = false;
  hid_t fapl = H5Fget_access_plist(file.id);
  if (fapl >= 0) {
    onDisk = H5Pget_driver(fapl) == H5FD_SEC2;
    H5Pclose(fapl);
  }
  H5Eclear2(H5E_DEFAULT);
  // On a thread of its own: starting writeback can block while the disk is busy, and the
  // writer's thread must go on (inline, images written as fast as they come lost a third of
  // their rate). One job at a time; a flush that finds one running skips its turn.
  static std::atomic<bool> busy{false};
  if (onDisk && !busy.exchange(true)) {
    // A descriptor of its own (the page cache is the file's, whichever descriptor asks): a
    // duplicate of libhdf5's would hold its lock on the file after the file is closed.
    int fd = open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& list : w) ranges.insert(ranges.end(), list.begin(), list.end());
    bool started = false;
    if (fd >= 0) {
      try {
        std::thread([fd, ranges = std::move(ranges)] {
          for (const auto& r : ranges) posix_fadvise(fd, static_cast<off_t>(r.first), static_cast<off_t>(r.second), POSIX_FADV_DONTNEED);
          close(fd);
          busy.store(false);
        }).detach();
        started = true;
      } catch (...) {  // no thread: skip this turn
        close(fd);
      }
    }
    if (!started) busy.store(false);
  }
  w[2].swap(w[1]);
  w[1].swap(w[0]);
  w[0].clear();
}

}  // namespace h5
