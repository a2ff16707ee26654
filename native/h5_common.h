// Shared pieces of the libhdf5 bindings: error reporting, argument checks, the handle table.
//
// Rules kept by every h5_*.cc file:
// - every libhdf5 call is checked; a failure throws a JS Error (errors.h) with code 'H5_ERR',
//   the failing H5 function in `h5Function` and the HDF5 error stack in the message and in
//   `h5Stack`;
// - arguments are checked with Args (args.h) before any libhdf5 call (wrong type -> TypeError);
// - every hid_t we create is owned by an Hid (RAII) or by the handle table, so a thrown error
//   never leaks an identifier;
// - all libhdf5 calls happen on the thread that first loaded the addon (libhdf5 serial is not
//   thread-safe); other threads get an Error instead.
#pragma once

#include <napi.h>
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"

namespace h5 {

// ---- errors ---------------------------------------------------------------------------------

// Throws the JS error for a failed libhdf5 call `fn`, with the HDF5 error stack collected by
// H5Ewalk2 (the stack is cleared afterwards).
[[noreturn]] void Fail(Napi::Env env, const char* fn, const std::string& context = std::string());
// Throws a coded error that did not come from libhdf5 (wrong sizes, bad blobs, closed handles);
// `fn`, when given, is the H5 function concerned (in `h5Function`).
[[noreturn]] inline void Throw(Napi::Env env, const char* code, const std::string& message, const char* fn = nullptr) {
  sf::ThrowCoded(env, code, message, "h5Function", fn);
}
using sf::ThrowRange;
using sf::ThrowType;

// Checks a libhdf5 return value (negative = failure) and returns it.
inline hid_t CheckId(Napi::Env env, hid_t id, const char* fn, const std::string& context = std::string()) {
  if (id < 0) Fail(env, fn, context);
  return id;
}
inline herr_t Check(Napi::Env env, herr_t r, const char* fn, const std::string& context = std::string()) {
  if (r < 0) Fail(env, fn, context);
  return r;
}

// Throws unless called on the thread that owns libhdf5.
void CheckThread(Napi::Env env);

// ---- RAII for identifiers -------------------------------------------------------------------

class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  Hid(Hid&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = -1;
    }
    return *this;
  }
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  hid_t release() {
    hid_t id = id_;
    id_ = -1;
    return id;
  }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Helpers that create an identifier or throw.
Hid MakeSpace(Napi::Env env, const std::vector<hsize_t>& dims, const std::vector<hsize_t>* maxDims = nullptr);
Hid MakePlist(Napi::Env env, hid_t cls, const char* what);
// A link-creation property list that creates missing intermediate groups (and UTF-8 names).
Hid MakeLcpl(Napi::Env env);
// A variable-length UTF-8 string type.
Hid MakeVlenStringType(Napi::Env env);

// Reads n strings of `fileType` (variable- or fixed-length) from a dataset or an attribute:
// `read(memType, buffer)` is the H5Dread or H5Aread call, `readName` its name for errors.
using StringRead = std::function<herr_t(hid_t memType, void* buffer)>;
Napi::Array ReadStringValues(Napi::Env env, hid_t fileType, hid_t space, uint64_t n, const std::string& where,
                             const char* readName, const StringRead& read);
// Dimensions as a JS array (H5S_UNLIMITED as Infinity).
Napi::Array DimsToJs(Napi::Env env, const std::vector<hsize_t>& dims);

// ---- element types --------------------------------------------------------------------------

enum class NumType : int { Int8, Uint8, Int16, Uint16, Int32, Uint32, Int64, Uint64, Float32, Float64, Bool };
constexpr int kNumTypeCount = 11;
const char* NumTypeName(NumType t);
size_t NumTypeSize(NumType t);
// The little-endian standard type (H5T_STD_*LE / H5T_IEEE_F*LE): used for file AND memory,
// since our buffers always hold little-endian bytes. Bool is h5py's boolean: an enum over int8
// {FALSE = 0, TRUE = 1}, which h5py reads as numpy bool (and the original writer stored).
hid_t NumTypeH5(NumType t);
// Parses 'int8'...'float64' and 'bool'; false for anything else.
bool ParseNumType(const std::string& name, NumType* out);
// Maps an HDF5 numeric datatype to ours; false for non-numeric or unusual sizes.
bool NumTypeFromH5(hid_t type, NumType* out);

// ---- argument checks ------------------------------------------------------------------------

// The shared argument checks (args.h), plus those of the HDF5 functions; constructing one also
// refuses threads other than libhdf5's own.
class Args : public sf::Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : sf::Args(info, fn) { CheckThread(env_); }
  int64_t Handle(size_t i, const char* what) const;
  // An array of integers >= minValue (dataset shapes).
  std::vector<hsize_t> Dims(size_t i, const char* what, uint64_t minValue) const;
  NumType Type(size_t i, const char* what) const;
};

// ---- handle table ---------------------------------------------------------------------------

enum class Kind { File, Dataset };
enum class DsKind { Numeric, VlenString, Bitshuffle };

struct Object {
  Kind kind;
  hid_t id = -1;
  int64_t file = 0;  // owning file handle (datasets)
  // datasets
  DsKind dsKind = DsKind::Numeric;
  NumType type = NumType::Uint8;
  std::vector<hsize_t> rowShape;  // dims after the first
  uint64_t rowElems = 1;
  uint64_t rowBytes = 0;
  uint64_t rows = 0;        // rows in the HDF5 dataset (its extent)
  uint64_t chunkRows = 1;   // first chunk dimension
  bool chunkIsRow = false;  // numeric: a chunk is exactly one row
  bool fillNever = false;   // numeric: chunks allocated without the fill value (grow by writing)
  // Small appends are collected here and written in one extend + write per chunk (or per
  // kPendingLimit bytes): libhdf5 costs ~10 us per H5Dset_extent + H5Dwrite, whatever the size.
  // Rows the caller appended = rows + pendingRows. Written on flush, close, read, resize.
  std::vector<uint8_t> pending;
  uint64_t pendingRows = 0;
  // numeric, gathered, whole rows per chunk, on a sec2 file: the file's descriptor (else -1),
  // and the chunk that rows are being appended to with its file address once libhdf5 has
  // allocated it (UINT64_MAX: none yet). See WriteGatheredRows.
  int directFd = -1;
  uint64_t directChunk = UINT64_MAX;
  uint64_t directAddr = 0;
  // The same datasets: libhdf5's extent, which may stay behind `rows` once the file offset of
  // the extent in the dataset's object header is known (dimsAt, 0: not known; dimsLocated: we
  // looked). See RecordExtents.
  uint64_t h5Rows = 0;
  uint64_t dimsAt = 0;
  bool dimsLocated = false;
  std::string path;  // path at creation, for messages
  std::vector<int64_t> children;  // files: open datasets
  int rawFd = -2;  // files: libhdf5's descriptor of a sec2 file (-1: another driver; -2: not asked yet)
  // files: drop-behind (h5FileSetDropBehind). Byte ranges of chunks written whole and never
  // written again (big rows): [0] written since the last flush, [1] and [2] one and two flushes
  // earlier.
  bool dropBehind = false;
  std::vector<std::pair<uint64_t, uint64_t>> writtenOnce[3];
};

// Writes every open dataset's buffered rows (h5FileFlush, reads). With syncExtents, libhdf5's
// extent of each dataset is brought up to its rows too (reads and closes need it; the flush
// records extents itself, see RecordExtents).
void FlushFileDatasets(Napi::Env env, Object& file, bool syncExtents);
// After H5Fflush: writes the extent of the datasets whose extent libhdf5 no longer tracks into
// their object headers in the file, and learns where it is for those not located yet.
void RecordExtents(Napi::Env env, Object& file);
// After a flush: asks the kernel to write out the chunks noted since the last flush and to drop
// those noted before it (on disk by now). Best effort: failures are ignored.
void DropWrittenPages(Object& file);

// Registers an object and returns its handle (a positive integer, never reused).
int64_t Register(Object obj);
// The live object for a handle, or throws H5_ERR_CLOSED (closed) / TypeError (unknown kind).
Object& Lookup(Napi::Env env, int64_t handle, Kind kind, const char* fn);
// Writes a dataset's pending rows and brings libhdf5's extent up to them (before a close);
// false (with the HDF5 error text in *error) on failure, the rows then stay pending.
bool FlushDataset(Object& o, std::string* error);
// The current HDF5 error stack as one line (the stack is cleared).
std::string TakeStackText();

// Closes a dataset handle (writing its pending rows first); false if it was not open.
bool CloseDataset(int64_t handle, std::string* error);
// Closes a file handle and every dataset opened through it; false if it was not open.
bool CloseFile(int64_t handle, std::string* error);

// ---- registration ---------------------------------------------------------------------------

void Export(Napi::Env env, Napi::Object exports, const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&));
void InitFile(Napi::Env env, Napi::Object exports);
void InitDataset(Napi::Env env, Napi::Object exports);
void InitAttr(Napi::Env env, Napi::Object exports);

}  // namespace h5
