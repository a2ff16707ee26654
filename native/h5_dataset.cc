// Datasets: chunked numeric datasets with an unlimited first dimension, variable-length UTF-8
// string datasets, bitshuffle (filter 32008) datasets written by direct chunk write; resize;
// whole-dataset read, dataset info and filter listing.
#include "h5_common.h"

#include <cerrno>
#include <cmath>
#include <algorithm>
#include <cstring>

#include <unistd.h>

namespace h5 {
namespace {

constexpr H5Z_filter_t kBitshuffleFilter = 32008;
constexpr unsigned kBitshuffleLz4 = 2;  // the plugin's BSHUF_H5_COMPRESS_LZ4
constexpr uint64_t kMaxChunkBytes = 0xFFFFFFFFull;  // HDF5 chunks are limited to 4 GiB - 1
constexpr size_t kDefaultCacheBytes = 1 << 20;
// Pending rows are written once they fill the current chunk or this many bytes; appends larger
// than half of it are written at once (see Append).
constexpr size_t kPendingLimit = 64 * 1024;
constexpr size_t kMaxCacheBytes = 64u << 20;
// Rows go straight into chunks of at least this many rows, and their extents are recorded by
// the addon (WriteGatheredRows, RecordExtents): scalars' chunks have 8192. Smaller chunks fill
// within a flush or two, so nearly every flush would go through H5Dwrite (and H5Dset_extent)
// anyway, and finding each one's address would cost a walk of a chunk index that keeps growing.
constexpr uint64_t kDirectRowsMinChunkRows = 256;

// The bytes of a Buffer / TypedArray / DataView argument (no copy).
struct Bytes {
  const uint8_t* data;
  size_t length;
};

Bytes GetBytes(const Args& a, size_t i, const char* what) {
  if (!a.IsUndefined(i)) {
    Napi::Value v = a.Raw(i);
    if (v.IsTypedArray()) {
      Napi::TypedArray t = v.As<Napi::TypedArray>();
      const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data());
      return Bytes{base == nullptr ? nullptr : base + t.ByteOffset(), t.ByteLength()};
    }
    if (v.IsDataView()) {
      Napi::DataView d = v.As<Napi::DataView>();
      const uint8_t* base = static_cast<const uint8_t*>(d.ArrayBuffer().Data());
      return Bytes{base == nullptr ? nullptr : base + d.ByteOffset(), d.ByteLength()};
    }
  }
  a.TypeFail(i, what, "a Buffer or typed array");
}

Bytes GetBytesOf(Napi::Env env, Napi::Value v, const char* fn, uint32_t index) {
  if (v.IsTypedArray()) {
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    const uint8_t* base = static_cast<const uint8_t*>(t.ArrayBuffer().Data());
    return Bytes{base == nullptr ? nullptr : base + t.ByteOffset(), t.ByteLength()};
  }
  ThrowType(env, std::string(fn) + ": element " + std::to_string(index) + " must be a Buffer or typed array");
}

// Product of dims, saturating at UINT64_MAX instead of wrapping.
uint64_t Product(const std::vector<hsize_t>& dims) {
  uint64_t n = 1;
  for (hsize_t d : dims) {
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return UINT64_MAX;
  }
  return n;
}

uint64_t SatMul(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

constexpr uint64_t kMaxRowBytes = 1ull << 40;    // 1 TiB: anything larger is a mistake
constexpr uint64_t kMaxReadBytes = 1ull << 32;   // the largest Buffer Node 20 makes

void CheckRow(Napi::Env env, const char* fn, const std::vector<hsize_t>& rowShape, size_t elemSize) {
  if (SatMul(Product(rowShape), elemSize) > kMaxRowBytes) ThrowRange(env, std::string(fn) + ": rowShape describes rows larger than 1 TiB");
}

std::vector<hsize_t> WithRows(uint64_t rows, const std::vector<hsize_t>& rowShape) {
  std::vector<hsize_t> dims;
  dims.reserve(rowShape.size() + 1);
  dims.push_back(rows);
  dims.insert(dims.end(), rowShape.begin(), rowShape.end());
  return dims;
}

// Dataset access: a chunk cache that holds at least one whole chunk (up to 64 MiB), preempting
// fully written chunks first, which is what appending does; or (noCache) none. Without a cache
// libhdf5 writes a partial chunk's new rows straight to the file, where a cached chunk would be
// written out whole at every H5Fflush: for many narrow datasets flushed once a second that
// rewrote ~64 KiB per dataset per second (5000 scalar channels: 880 ms of CPU per flush, 205 ms
// without the cache). Only for chunks that Append gathers whole (at most kPendingLimit bytes):
// their rows reach libhdf5 a chunk at a time anyway, except at a flush. Bigger chunks are written
// in parts, and without a cache the first part of every chunk would write the whole chunk (fill
// values) before its own bytes: twice the data.
Hid MakeDapl(Napi::Env env, uint64_t chunkBytes, bool noCache) {
  Hid dapl = MakePlist(env, H5P_DATASET_ACCESS, "dataset access");
  if (noCache) {
    Check(env, H5Pset_chunk_cache(dapl, 0, 0, 1.0), "H5Pset_chunk_cache");
  } else {
    size_t bytes = kDefaultCacheBytes;
    if (chunkBytes > bytes && chunkBytes <= kMaxCacheBytes) bytes = static_cast<size_t>(chunkBytes) + 4096;
    Check(env, H5Pset_chunk_cache(dapl, 521, bytes, 1.0), "H5Pset_chunk_cache");
  }
  return dapl;
}

Napi::Value RegisterDataset(Napi::Env env, int64_t file, hid_t id, DsKind kind, NumType type, const std::vector<hsize_t>& rowShape,
                            uint64_t chunkRows, const std::string& path, bool chunkIsRow = false, bool fillNever = false) {
  Object o;
  o.kind = Kind::Dataset;
  o.id = id;
  o.file = file;
  o.dsKind = kind;
  o.type = type;
  o.rowShape = rowShape;
  o.rowElems = Product(rowShape);
  o.rowBytes = kind == DsKind::VlenString ? 0 : o.rowElems * NumTypeSize(type);
  o.rows = 0;
  o.chunkRows = chunkRows;
  o.chunkIsRow = chunkIsRow;
  o.fillNever = fillNever;
  o.path = path;
  return Napi::Number::New(env, static_cast<double>(Register(std::move(o))));
}

// libhdf5's own descriptor of a file opened with the sec2 driver (the writer's files), or -1
// (in-memory files, other drivers, or when libhdf5 does not say).
int SecTwoDescriptor(Object& f) {
  if (f.rawFd != -2) return f.rawFd;
  f.rawFd = -1;
  hid_t fapl = H5Fget_access_plist(f.id);
  if (fapl >= 0) {
    void* handle = nullptr;
    if (H5Pget_driver(fapl) == H5FD_SEC2 && H5Fget_vfd_handle(f.id, fapl, &handle) >= 0 && handle != nullptr) f.rawFd = *static_cast<int*>(handle);
    H5Pclose(fapl);
  }
  H5Eclear2(H5E_DEFAULT);
  return f.rawFd;
}

// Files with drop-behind on: notes where whole chunks that will not be written again went, so
// that their pages may leave the page cache once on disk (DropWrittenPages). Asking libhdf5
// where a chunk is (H5Dget_chunk_info_by_coord) walks the dataset's whole chunk index: one
// image per chunk made every write slower than the last (a 60-s run at 200 images a second
// spent ~3 % of the writer in it, a 10-minute one would spend more than a core). Such chunks are
// allocated at the end of the file, so the file's end before and after the write says where,
// when it grew by exactly the bytes written and those bytes are there (checked at both ends:
// metadata allocated in the same call, or a chunk placed elsewhere, make it a missed hint).
class WrittenOnceNote {
 public:
  WrittenOnceNote(Napi::Env env, const Object& o) : file_(Lookup(env, o.file, Kind::File, "drop-behind")) {
    if (file_.dropBehind) fd_ = SecTwoDescriptor(file_);
  }
  void Before() { before_ = End(); }
  void After(const uint8_t* data, uint64_t length) {
    if (fd_ < 0 || before_ == 0 || length == 0) return;
    const uint64_t after = End();
    if (after < before_ || after - before_ != length || !Holds(before_, data, length)) return;
    file_.writtenOnce[0].emplace_back(before_, length);
  }

 private:
  uint64_t End() const {
    if (fd_ < 0) return 0;
    hsize_t size = 0;
    if (H5Fget_filesize(file_.id, &size) < 0) {
      H5Eclear2(H5E_DEFAULT);
      return 0;
    }
    return static_cast<uint64_t>(size);
  }
  bool Holds(uint64_t at, const uint8_t* data, uint64_t length) const {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, 64));
    uint8_t got[64];
    for (uint64_t off : {uint64_t{0}, length - n}) {
      if (pread(fd_, got, n, static_cast<off_t>(at + off)) != static_cast<ssize_t>(n) || std::memcmp(got, data + off, n) != 0) return false;
    }
    return true;
  }
  Object& file_;
  int fd_ = -1;
  uint64_t before_ = 0;
};

void CheckChunk(Napi::Env env, const char* fn, const std::vector<hsize_t>& chunk, size_t elemSize) {
  uint64_t bytes = SatMul(Product(chunk), elemSize);
  if (bytes > kMaxChunkBytes) ThrowRange(env, std::string(fn) + ": a chunk would hold " + std::to_string(bytes) + " bytes; HDF5 allows < 4 GiB");
}

// h5DatasetCreateNumeric(file, path, type, rowShape, chunkShape) -> dataset handle.
// Shape (0, ...rowShape), max (unlimited, ...rowShape), chunked as chunkShape (rank 1 + rowShape),
// fill value 0, little-endian standard type.
Napi::Value CreateNumeric(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetCreateNumeric";
  Args a(info, fn);
  Napi::Env env = a.Env();
  int64_t fh = a.Handle(0, "file");
  std::string path = a.Name(1, "path");
  NumType type = a.Type(2, "type");
  std::vector<hsize_t> rowShape = a.Dims(3, "rowShape", 1);
  std::vector<hsize_t> chunk = a.Dims(4, "chunkShape", 1);
  if (chunk.size() != rowShape.size() + 1) ThrowRange(env, std::string(fn) + ": chunkShape must have rowShape.length + 1 entries");
  for (size_t k = 0; k < rowShape.size(); k++) {
    if (chunk[k + 1] > rowShape[k]) ThrowRange(env, std::string(fn) + ": chunkShape must not exceed rowShape");
  }
  CheckRow(env, fn, rowShape, NumTypeSize(type));
  CheckChunk(env, fn, chunk, NumTypeSize(type));
  Object& f = Lookup(env, fh, Kind::File, fn);

  std::vector<hsize_t> dims = WithRows(0, rowShape);
  std::vector<hsize_t> maxDims = WithRows(H5S_UNLIMITED, rowShape);
  Hid space = MakeSpace(env, dims, &maxDims);
  Hid dcpl = MakePlist(env, H5P_DATASET_CREATE, "dataset creation");
  Check(env, H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk", path);
  const uint64_t zero = 0;
  Check(env, H5Pset_fill_value(dcpl, NumTypeH5(type), &zero), "H5Pset_fill_value", path);
  Hid lcpl = MakeLcpl(env);
  // Multi-row chunks small enough to be gathered whole (scalars, short waveforms) go uncached;
  // images and other large chunks keep a cache.
  const uint64_t chunkBytes = SatMul(Product(chunk), NumTypeSize(type));
  const bool gathered = chunk[0] > 1 && chunkBytes <= kPendingLimit;
  // The same chunks are never filled with the fill value when allocated: libhdf5 would write
  // each new chunk whole (64 KiB of zeros) before the first rows, 15,000 chunks at the first
  // flush of a 5000-channel file. Chunks never written then read as whatever the reader's
  // buffer held, so such a dataset grows only by rows written (Resize writes zero rows).
  if (gathered) Check(env, H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "H5Pset_fill_time", path);
  const bool wholeRows = std::equal(rowShape.begin(), rowShape.end(), chunk.begin() + 1);
  const bool chunkIsRow = chunk[0] == 1 && wholeRows;
  // A chunk that is one row is always written whole: a cache would only hold it until the next
  // flush. Without one it reaches the file in the H5Dwrite that wrote it, where drop-behind sees
  // where it went (WrittenOnceNote).
  Hid dapl = MakeDapl(env, chunkBytes, gathered || chunkIsRow);
  hid_t id = CheckId(env, H5Dcreate2(f.id, path.c_str(), NumTypeH5(type), space, lcpl, dcpl, dapl), "H5Dcreate2", path);
  Napi::Value handle = RegisterDataset(env, fh, id, DsKind::Numeric, type, rowShape, chunk[0], path, chunkIsRow, gathered);
  // Whole rows side by side in a chunk: a run of rows is one run of bytes (WriteGatheredRows).
  if (gathered && wholeRows && chunk[0] >= kDirectRowsMinChunkRows) Lookup(env, handle.As<Napi::Number>().Int64Value(), Kind::Dataset, fn).directFd = SecTwoDescriptor(f);
  return handle;
}

// h5DatasetCreateString(file, path, chunkRows) -> dataset handle: 1-D, unlimited, vlen UTF-8.
Napi::Value CreateString(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetCreateString";
  Args a(info, fn);
  Napi::Env env = a.Env();
  int64_t fh = a.Handle(0, "file");
  std::string path = a.Name(1, "path");
  uint64_t chunkRows = a.Count(2, "chunkRows");
  if (chunkRows < 1 || chunkRows > (1u << 24)) ThrowRange(env, std::string(fn) + ": chunkRows must be in 1..16777216");
  Object& f = Lookup(env, fh, Kind::File, fn);
  std::vector<hsize_t> dims{0}, maxDims{H5S_UNLIMITED}, chunk{chunkRows};
  Hid space = MakeSpace(env, dims, &maxDims);
  Hid dcpl = MakePlist(env, H5P_DATASET_CREATE, "dataset creation");
  Check(env, H5Pset_chunk(dcpl, 1, chunk.data()), "H5Pset_chunk", path);
  Hid type = MakeVlenStringType(env);
  Hid lcpl = MakeLcpl(env);
  // Uncached too: string batches are written in parts, so each chunk is first written whole with
  // fill values (64 KiB per 4096 rows), which costs less than rewriting it at every flush.
  Hid dapl = MakeDapl(env, 0, chunkRows > 1);
  hid_t id = CheckId(env, H5Dcreate2(f.id, path.c_str(), type, space, lcpl, dcpl, dapl), "H5Dcreate2", path);
  return RegisterDataset(env, fh, id, DsKind::VlenString, NumType::Uint8, {}, chunkRows, path);
}

// h5DatasetCreateBitshuffle(file, path, type, rowShape) -> dataset handle: chunks of one row,
// filter 32008 with LZ4. When the plugin is available it is declared mandatory with the user
// values [block size 0 = default, compression 2 = LZ4]; the plugin's set_local prepends its
// version and the element size. Without the plugin (we never need it for writing: chunks are
// written pre-compressed) we store the full 5 values ourselves and mark it optional so the
// dataset can still be created.
Napi::Value CreateBitshuffle(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetCreateBitshuffle";
  Args a(info, fn);
  Napi::Env env = a.Env();
  int64_t fh = a.Handle(0, "file");
  std::string path = a.Name(1, "path");
  NumType type = a.Type(2, "type");
  std::vector<hsize_t> rowShape = a.Dims(3, "rowShape", 1);
  std::vector<hsize_t> chunk = WithRows(1, rowShape);
  CheckRow(env, fn, rowShape, NumTypeSize(type));
  CheckChunk(env, fn, chunk, NumTypeSize(type));
  Object& f = Lookup(env, fh, Kind::File, fn);

  std::vector<hsize_t> dims = WithRows(0, rowShape);
  std::vector<hsize_t> maxDims = WithRows(H5S_UNLIMITED, rowShape);
  Hid space = MakeSpace(env, dims, &maxDims);
  Hid dcpl = MakePlist(env, H5P_DATASET_CREATE, "dataset creation");
  Check(env, H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "H5Pset_chunk", path);
  const uint64_t zero = 0;
  Check(env, H5Pset_fill_value(dcpl, NumTypeH5(type), &zero), "H5Pset_fill_value", path);
  htri_t avail = H5Zfilter_avail(kBitshuffleFilter);
  if (avail < 0) H5Eclear2(H5E_DEFAULT);
  if (avail > 0) {
    const unsigned cd[2] = {0, kBitshuffleLz4};
    Check(env, H5Pset_filter(dcpl, kBitshuffleFilter, H5Z_FLAG_MANDATORY, 2, cd), "H5Pset_filter", path);
  } else {
    const unsigned cd[5] = {0, 3, static_cast<unsigned>(NumTypeSize(type)), 0, kBitshuffleLz4};
    Check(env, H5Pset_filter(dcpl, kBitshuffleFilter, H5Z_FLAG_OPTIONAL, 5, cd), "H5Pset_filter", path);
  }
  Hid lcpl = MakeLcpl(env);
  Hid dapl = MakeDapl(env, 0, true);
  hid_t id = CheckId(env, H5Dcreate2(f.id, path.c_str(), NumTypeH5(type), space, lcpl, dcpl, dapl), "H5Dcreate2", path);
  return RegisterDataset(env, fh, id, DsKind::Bitshuffle, type, rowShape, 1, path);
}

Object& DatasetArg(const Args& a, size_t i, const char* fn) { return Lookup(a.Env(), a.Handle(i, "dataset"), Kind::Dataset, fn); }

// A dataset that shrinks may lose chunks (libhdf5 frees them, and their file space can go to
// anything written next): the chunk address kept for direct row writes is forgotten.
void ForgetChunkIfShrinking(Object& o, uint64_t rows) {
  if (rows < o.rows) o.directChunk = UINT64_MAX;
}

// Sets libhdf5's extent (every H5Dset_extent of a dataset goes through here).
herr_t SetH5Extent(Object& o, uint64_t rows) {
  std::vector<hsize_t> dims = WithRows(rows, o.rowShape);
  herr_t r = H5Dset_extent(o.id, dims.data());
  if (r >= 0) o.h5Rows = rows;
  return r;
}

void SetExtent(Napi::Env env, Object& o, uint64_t rows) {
  // A cut to where libhdf5's lagging extent already is would change nothing in libhdf5: its
  // object header would stay clean and keep the longer extent RecordExtents wrote into the file.
  if (rows < o.rows && o.h5Rows != o.rows) Check(env, SetH5Extent(o, o.rows), "H5Dset_extent", o.path);
  ForgetChunkIfShrinking(o, rows);
  Check(env, SetH5Extent(o, rows), "H5Dset_extent", o.path);
  o.rows = rows;
}

// After a failed write: best effort to go back to the rows we had, keeping the failure's error
// stack for the caller.
void RollBack(Object& o, uint64_t oldRows) {
  hid_t saved = H5Eget_current_stack();
  ForgetChunkIfShrinking(o, oldRows);
  if (SetH5Extent(o, oldRows) >= 0) o.rows = oldRows;
  H5Eclear2(H5E_DEFAULT);
  if (saved >= 0) H5Eset_current_stack(saved);
}

// Writes `rows` rows from `data` (memory type memType) at row o.rows, growing the dataset.
// Returns nullptr, or the failed HDF5 function (the error stack is left in place and the
// extent rolled back).
const char* WriteRowsRaw(Object& o, uint64_t rows, hid_t memType, const void* data) {
  uint64_t oldRows = o.rows;
  if (SetH5Extent(o, oldRows + rows) < 0) return "H5Dset_extent";
  o.rows = oldRows + rows;
  Hid fspace(H5Dget_space(o.id), H5Sclose);
  if (fspace.get() < 0) {
    RollBack(o, oldRows);
    return "H5Dget_space";
  }
  std::vector<hsize_t> start = WithRows(oldRows, std::vector<hsize_t>(o.rowShape.size(), 0));
  std::vector<hsize_t> count = WithRows(rows, o.rowShape);
  if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0) {
    RollBack(o, oldRows);
    return "H5Sselect_hyperslab";
  }
  // The memory space has the same shape as the selection: with a flat 1-D memory space libhdf5
  // takes a per-row scatter/gather path that is ~40x slower for image rows.
  Hid mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (mspace.get() < 0) {
    RollBack(o, oldRows);
    return "H5Screate_simple";
  }
  if (H5Dwrite(o.id, memType, mspace, fspace, H5P_DEFAULT, data) < 0) {
    RollBack(o, oldRows);
    return "H5Dwrite";
  }
  return nullptr;
}

void WriteRows(Napi::Env env, Object& o, uint64_t rows, hid_t memType, const void* data) {
  const char* failed = WriteRowsRaw(o, rows, memType, data);
  if (failed != nullptr) Fail(env, failed, o.path);
}


// Writes all of `length` bytes at `offset`, or pushes the reason on the HDF5 error stack and
// returns false.
bool PwriteAll(int fd, const uint8_t* data, size_t length, uint64_t offset, const std::string& path) {
  while (length > 0) {
    ssize_t n = pwrite(fd, data, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      H5Epush2(H5E_DEFAULT, __FILE__, "pwrite", __LINE__, H5E_ERR_CLS, H5E_IO, H5E_WRITEERROR, "%s: writing %zu bytes at file offset %llu: %s", path.c_str(),
               length, static_cast<unsigned long long>(offset), std::strerror(err));
      return false;
    }
    data += n;
    length -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

// Rows appended to a chunk that libhdf5 has already allocated are written straight to the
// chunk's place in the file, one pwrite, and only the extent goes through libhdf5. The scalar
// channels' datasets (30,000 at SwissFEL scale) each get ~100 rows a second: through H5Dwrite
// (dataspaces, selection, chunk look-up, I/O layers) that was about as costly as the extent and
// the flush of the object header together. Safe because such a chunk has no filter, no cache and
// no fill step, so libhdf5 never moves it, never holds its bytes in memory and never writes it
// again on its own; a chunk it frees (a dataset shrinking) is forgotten. The rows are in the file
// before the extent that makes them visible: a killed writer leaves only rows really written.
// The first rows of every chunk go through H5Dwrite, which allocates it.
const char* WriteGatheredRows(Object& o) {
  const uint64_t start = o.rows;
  const uint64_t total = o.pendingRows;
  const uint64_t chunkBytes = o.chunkRows * o.rowBytes;
  uint64_t done = 0;
  while (done < total) {
    const uint64_t row = start + done;
    const uint64_t chunk = row / o.chunkRows;
    const uint64_t inChunk = row - chunk * o.chunkRows;
    const uint64_t n = std::min(total - done, o.chunkRows - inChunk);
    const uint8_t* data = o.pending.data() + done * o.rowBytes;
    if (chunk == o.directChunk) {
      if (!PwriteAll(o.directFd, data, static_cast<size_t>(n * o.rowBytes), o.directAddr + inChunk * o.rowBytes, o.path)) {
        RollBack(o, start);
        return "pwrite";
      }
    } else {
      o.rows = row;  // WriteRowsRaw writes at o.rows and sets libhdf5's extent past this segment
      const char* failed = WriteRowsRaw(o, n, NumTypeH5(o.type), data);
      if (failed != nullptr) {
        RollBack(o, start);
        return failed;
      }
      // The look-up walks the whole chunk index (~14 ns a chunk): only for chunks that will
      // take more rows.
      if (inChunk + n < o.chunkRows) {
        std::vector<hsize_t> offset(o.rowShape.size() + 1, 0);
        offset[0] = chunk * o.chunkRows;
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        if (H5Dget_chunk_info_by_coord(o.id, offset.data(), &mask, &addr, &size) >= 0 && addr != HADDR_UNDEF && size == chunkBytes) {
          o.directChunk = chunk;
          o.directAddr = static_cast<uint64_t>(addr);
        } else {
          H5Eclear2(H5E_DEFAULT);  // this chunk's rows keep going through H5Dwrite
        }
      }
    }
    done += n;
  }
  // Once the flush records the extent in the file itself (RecordExtents), libhdf5's may stay
  // behind until something needs it (SyncExtentRaw).
  if (o.rows != start + total && o.dimsAt == 0 && SetH5Extent(o, start + total) < 0) {
    RollBack(o, start);
    return "H5Dset_extent";
  }
  o.rows = start + total;
  return nullptr;
}

// Brings libhdf5's extent up to the rows written (reads, closes, and whatever else asks libhdf5
// for the dataset's shape). Returns nullptr or the failed function.
const char* SyncExtentRaw(Object& o) {
  if (o.h5Rows == o.rows) return nullptr;
  return SetH5Extent(o, o.rows) < 0 ? "H5Dset_extent" : nullptr;
}

const char* FlushPendingRaw(Object& o) {
  if (o.pendingRows == 0) return nullptr;
  const char* failed = o.directFd >= 0 ? WriteGatheredRows(o) : WriteRowsRaw(o, o.pendingRows, NumTypeH5(o.type), o.pending.data());
  if (failed == nullptr) {
    o.pending.clear();
    o.pendingRows = 0;
  }
  return failed;
}

void FlushPending(Napi::Env env, Object& o) {
  const char* failed = FlushPendingRaw(o);
  if (failed != nullptr) Fail(env, failed, o.path + ": writing " + std::to_string(o.pendingRows) + " buffered rows");
}

Napi::Value RowCount(Napi::Env env, const Object& o) { return Napi::Number::New(env, static_cast<double>(o.rows + o.pendingRows)); }

// Gathers a small append (at most kPendingLimit / 2 bytes) into o.pending, first writing what is
// pending when it reached a chunk boundary or would overflow the buffer. Returns nullptr, or the
// failed HDF5 function (the error stack is left in place; nothing was gathered).
const char* GatherRows(Object& o, const uint8_t* data, size_t length, uint64_t rows) {
  if (o.pendingRows > 0 && ((o.rows + o.pendingRows) % o.chunkRows == 0 || o.pending.size() + length > kPendingLimit)) {
    const char* failed = FlushPendingRaw(o);
    if (failed != nullptr) return failed;
  }
  o.pending.insert(o.pending.end(), data, data + length);
  o.pendingRows += rows;
  return nullptr;
}

// h5DatasetAppendMany(datasets: Float64Array, bytes, byteOffsets: Float64Array, rows) ->
// [[index, message], ...] for the datasets that refused their rows (usually none).
// Dataset k gets `rows` rows from bytes[byteOffsets[k] ..], its own row size each: one call for
// the scalar batch's 10,000 columns instead of one each. Only small appends (at most
// kPendingLimit / 2 bytes per dataset), which are gathered like h5DatasetAppend's; a dataset
// whose gathered rows cannot be written keeps them and takes none of these (the caller keeps
// them), the others go on. Bad arguments throw before anything is appended.
Napi::Value AppendMany(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetAppendMany";
  Args a(info, fn);
  Napi::Env env = a.Env();
  if (!a.Raw(0).IsTypedArray() || a.Raw(0).As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) a.TypeFail(0, "datasets", "a Float64Array of handles");
  if (!a.Raw(2).IsTypedArray() || a.Raw(2).As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) a.TypeFail(2, "byteOffsets", "a Float64Array");
  Napi::Float64Array handles = a.Raw(0).As<Napi::Float64Array>();
  Napi::Float64Array offsets = a.Raw(2).As<Napi::Float64Array>();
  Bytes b = GetBytes(a, 1, "bytes");
  uint64_t rows = a.Count(3, "rows");
  const size_t n = handles.ElementLength();
  if (offsets.ElementLength() != n) ThrowRange(env, std::string(fn) + ": byteOffsets must have one entry per dataset");
  std::vector<Object*> objs(n);
  for (size_t k = 0; k < n; k++) {
    double h = handles[k];
    if (!(h >= 1) || std::floor(h) != h) ThrowType(env, std::string(fn) + ": datasets[" + std::to_string(k) + "] is not a handle");
    Object& o = Lookup(env, static_cast<int64_t>(h), Kind::Dataset, fn);
    if (o.dsKind != DsKind::Numeric) Throw(env, "H5_ERR", std::string(fn) + ": " + o.path + " is not a numeric dataset", "H5Dwrite");
    uint64_t len = 0;
    double off = offsets[k];
    if (__builtin_mul_overflow(rows, o.rowBytes, &len) || len > kPendingLimit / 2 || !(off >= 0) || std::floor(off) != off || off + static_cast<double>(len) > static_cast<double>(b.length)) {
      ThrowRange(env, std::string(fn) + ": " + o.path + ": " + std::to_string(rows) + " rows at byte " + std::to_string(off) + " do not fit the bytes or exceed " +
                          std::to_string(kPendingLimit / 2) + " bytes");
    }
    objs[k] = &o;
  }
  Napi::Array failed = Napi::Array::New(env);
  if (rows == 0) return failed;
  uint32_t nf = 0;
  for (size_t k = 0; k < n; k++) {
    Object& o = *objs[k];
    if (GatherRows(o, b.data + static_cast<size_t>(offsets[k]), static_cast<size_t>(rows * o.rowBytes), rows) != nullptr) {
      Napi::Array f = Napi::Array::New(env, 2);
      f.Set(0u, Napi::Number::New(env, static_cast<double>(k)));
      f.Set(1u, Napi::String::New(env, o.path + ": writing " + std::to_string(o.pendingRows) + " buffered rows: " + TakeStackText()));
      failed.Set(nf++, f);
    }
  }
  return failed;
}

// h5DatasetAppend(dataset, bytes, rows) -> new row count. `bytes` holds rows × row size
// little-endian bytes. Large appends are written at once from the caller's memory (no copy);
// small ones are collected and written a chunk at a time. Either way, when the call throws the
// row count is unchanged.
Napi::Value Append(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetAppend";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& o = DatasetArg(a, 0, fn);
  Bytes b = GetBytes(a, 1, "bytes");
  uint64_t rows = a.Count(2, "rows");
  if (o.dsKind != DsKind::Numeric) Throw(env, "H5_ERR", std::string(fn) + ": " + o.path + " is not a numeric dataset", "H5Dwrite");
  uint64_t want = 0;
  if (__builtin_mul_overflow(rows, o.rowBytes, &want) || b.length != want) {
    Throw(env, "H5_ERR",
          std::string(fn) + ": " + o.path + ": got " + std::to_string(b.length) + " bytes for " + std::to_string(rows) +
              " rows, expected " + std::to_string(SatMul(rows, o.rowBytes)) + " (" + std::to_string(o.rowBytes) + " bytes per row)",
          "H5Dwrite");
  }
  if (rows == 0) return RowCount(env, o);
  if (b.length > kPendingLimit / 2) {
    FlushPending(env, o);
    WrittenOnceNote note(env, o);
    note.Before();
    WriteRows(env, o, rows, NumTypeH5(o.type), b.data);
    // One row per chunk: each chunk was written whole, once.
    if (o.chunkIsRow) note.After(b.data, b.length);
  } else {
    const char* failed = GatherRows(o, b.data, b.length, rows);
    if (failed != nullptr) Fail(env, failed, o.path + ": writing " + std::to_string(o.pendingRows) + " buffered rows");
  }
  return RowCount(env, o);
}

// h5DatasetAppendStrings(dataset, strings) -> new row count. A string is stored up to its
// first NUL character (HDF5 variable-length strings are C strings).
Napi::Value AppendStrings(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetAppendStrings";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& o = DatasetArg(a, 0, fn);
  Napi::Array arr = a.Array(1, "strings");
  if (o.dsKind != DsKind::VlenString) Throw(env, "H5_ERR", std::string(fn) + ": " + o.path + " is not a string dataset", "H5Dwrite");
  uint32_t n = arr.Length();
  std::vector<std::string> values(n);
  for (uint32_t k = 0; k < n; k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsString()) a.TypeFail(1, "strings", "an array of strings");
    values[k] = v.As<Napi::String>().Utf8Value();
  }
  if (n == 0) return Napi::Number::New(env, static_cast<double>(o.rows));
  std::vector<const char*> ptrs(n);
  for (uint32_t k = 0; k < n; k++) ptrs[k] = values[k].c_str();
  Hid memType = MakeVlenStringType(env);
  WriteRows(env, o, n, memType, ptrs.data());
  return Napi::Number::New(env, static_cast<double>(o.rows));
}

uint64_t ReadBE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int k = 0; k < n; k++) v = (v << 8) | p[k];
  return v;
}

uint64_t ReadLe(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int k = n - 1; k >= 0; k--) v = (v << 8) | p[k];
  return v;
}

// h5DatasetWriteChunks(dataset, blobs) -> new row count. Each blob is one row as a bitshuffle_lz4
// container (the filter's chunk format), written as is with H5Dwrite_chunk. All blobs are
// checked before anything is written; a failure rolls the row count back.
Napi::Value WriteChunks(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetWriteChunks";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& o = DatasetArg(a, 0, fn);
  Napi::Array arr = a.Array(1, "blobs");
  if (o.dsKind != DsKind::Bitshuffle) Throw(env, "H5_ERR", std::string(fn) + ": " + o.path + " is not a bitshuffle dataset", "H5Dwrite_chunk");
  uint32_t n = arr.Length();
  std::vector<Bytes> blobs(n);
  const uint64_t es = NumTypeSize(o.type);
  for (uint32_t k = 0; k < n; k++) {
    Bytes b = GetBytesOf(env, arr.Get(k), fn, k);
    std::string where = std::string(fn) + ": " + o.path + ": blob " + std::to_string(k) + ": ";
    if (b.length < 12) Throw(env, "H5_ERR", where + "shorter than the 12-byte bitshuffle header", "H5Dwrite_chunk");
    if (b.length > kMaxChunkBytes) Throw(env, "H5_ERR", where + "larger than 4 GiB", "H5Dwrite_chunk");
    uint64_t total = ReadBE(b.data, 8);
    uint64_t block = ReadBE(b.data + 8, 4);
    if (total != o.rowBytes) {
      Throw(env, "H5_ERR", where + "uncompressed size " + std::to_string(total) + " does not match the row size " + std::to_string(o.rowBytes),
            "H5Dwrite_chunk");
    }
    if (block % es != 0 || (block / es) % 8 != 0) {
      Throw(env, "H5_ERR", where + "block size " + std::to_string(block) + " bytes is not a multiple of 8 elements", "H5Dwrite_chunk");
    }
    blobs[k] = b;
  }
  if (n == 0) return Napi::Number::New(env, static_cast<double>(o.rows));
  uint64_t oldRows = o.rows;
  SetExtent(env, o, oldRows + n);
  std::vector<hsize_t> offset(o.rowShape.size() + 1, 0);
  WrittenOnceNote note(env, o);
  for (uint32_t k = 0; k < n; k++) {
    offset[0] = oldRows + k;
    note.Before();
    if (H5Dwrite_chunk(o.id, H5P_DEFAULT, 0, offset.data(), blobs[k].length, blobs[k].data) < 0) {
      RollBack(o, oldRows);
      Fail(env, "H5Dwrite_chunk", o.path + " row " + std::to_string(oldRows + k));
    }
    note.After(blobs[k].data, blobs[k].length);
  }
  return Napi::Number::New(env, static_cast<double>(o.rows));
}

// Zero rows Resize writes at most to grow a dataset without fill value (1 GiB: 134 M float64 rows).
constexpr uint64_t kMaxZeroGrowthBytes = 1ull << 30;

// h5DatasetResize(dataset, rows): sets the first dimension (truncate, or grow: with the fill value,
// or, for datasets without one on disk, by writing zero rows).
Napi::Value Resize(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetResize";
  Args a(info, fn);
  Object& o = DatasetArg(a, 0, fn);
  uint64_t rows = a.Count(1, "rows");
  // Buffered rows past the new end are dropped unwritten: cutting must work when writing does
  // not (a full disk), to leave only rows that are really in the file.
  if (rows < o.rows + o.pendingRows) {
    const uint64_t keep = rows > o.rows ? rows - o.rows : 0;
    o.pending.resize(static_cast<size_t>(keep * o.rowBytes));
    o.pendingRows = keep;
  }
  FlushPending(a.Env(), o);
  if (o.fillNever && rows > o.rows) {
    // Such a dataset has no fill value on disk, and libhdf5 does not fill a chunk that was never
    // written when it is read (the reader's buffer keeps what it had): grow by writing zero
    // rows, what the fill value reads as, a chunk at a time. A late channel's pulse_id and
    // is_data_present grow like this once, by the rows before it. Absurd growth is refused.
    const uint64_t grow = rows - o.rows;
    if (SatMul(grow, o.rowBytes) > kMaxZeroGrowthBytes) {
      Throw(a.Env(), "H5_ERR",
            std::string(fn) + ": " + o.path + ": growing by " + std::to_string(grow) + " rows would write " + std::to_string(SatMul(grow, o.rowBytes)) +
                " bytes of zeros (at most " + std::to_string(kMaxZeroGrowthBytes) + ")",
            "H5Dset_extent");
    }
    std::vector<uint8_t> zeros(std::min<uint64_t>(SatMul(grow, o.rowBytes), kPendingLimit), 0);
    const uint64_t perWrite = std::max<uint64_t>(1, zeros.size() / o.rowBytes);
    while (o.rows < rows) WriteRows(a.Env(), o, std::min(perWrite, rows - o.rows), NumTypeH5(o.type), zeros.data());
    return a.Env().Undefined();
  }
  SetExtent(a.Env(), o, rows);
  return a.Env().Undefined();
}

// h5DatasetRows(dataset) -> current row count.
Napi::Value Rows(const Napi::CallbackInfo& info) {
  const char* fn = "h5DatasetRows";
  Args a(info, fn);
  Object& o = DatasetArg(a, 0, fn);
  return RowCount(a.Env(), o);
}

// h5DatasetClose(dataset): closing twice is a no-op.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Args a(info, "h5DatasetClose");
  std::string error;
  CloseDataset(a.Handle(0, "dataset"), &error);
  if (!error.empty()) Throw(a.Env(), "H5_ERR", error, "H5Dclose");
  return a.Env().Undefined();
}

// ---- reading --------------------------------------------------------------------------------

struct Opened {
  Hid ds;
  Hid type;
  Hid space;
  std::vector<hsize_t> dims;
  std::vector<hsize_t> maxDims;
};

Opened OpenForRead(Napi::Env env, hid_t file, const std::string& path) {
  Opened o;
  o.ds = Hid(CheckId(env, H5Dopen2(file, path.c_str(), H5P_DEFAULT), "H5Dopen2", path), H5Dclose);
  o.type = Hid(CheckId(env, H5Dget_type(o.ds), "H5Dget_type", path), H5Tclose);
  o.space = Hid(CheckId(env, H5Dget_space(o.ds), "H5Dget_space", path), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(o.space);
  if (rank < 0) Fail(env, "H5Sget_simple_extent_ndims", path);
  o.dims.resize(rank);
  o.maxDims.resize(rank);
  if (rank > 0 && H5Sget_simple_extent_dims(o.space, o.dims.data(), o.maxDims.data()) < 0) Fail(env, "H5Sget_simple_extent_dims", path);
  return o;
}

// The type name we report: 'int8'...'float64', 'vlen_string', 'fixed_string' or 'other'.
std::string TypeName(hid_t type) {
  NumType t;
  if (NumTypeFromH5(type, &t)) return NumTypeName(t);
  if (H5Tget_class(type) == H5T_STRING) {
    htri_t v = H5Tis_variable_str(type);
    if (v < 0) {
      H5Eclear2(H5E_DEFAULT);
      return "other";
    }
    return v > 0 ? "vlen_string" : "fixed_string";
  }
  return "other";
}

// h5Read(file, path) -> { type, shape, data: Buffer (little-endian) | string[] }
Napi::Value Read(const Napi::CallbackInfo& info) {
  const char* fn = "h5Read";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& f = Lookup(env, a.Handle(0, "file"), Kind::File, fn);
  std::string path = a.Name(1, "path");
  FlushFileDatasets(env, f, true);
  Opened o = OpenForRead(env, f.id, path);
  H5S_class_t sc = H5Sget_simple_extent_type(o.space);
  uint64_t n = sc == H5S_NULL ? 0 : Product(o.dims);
  std::string typeName = TypeName(o.type);
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", typeName);
  out.Set("shape", DimsToJs(env, o.dims));
  if (typeName == "vlen_string" || typeName == "fixed_string") {
    if (n > (1u << 30)) Throw(env, "H5_ERR", std::string(fn) + ": " + path + " has too many strings to read at once", "H5Dread");
    hid_t dset = o.ds;
    out.Set("data", ReadStringValues(env, o.type, o.space, n, path, "H5Dread", [dset](hid_t memType, void* buf) {
      return H5Dread(dset, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    }));
    return out;
  }
  NumType t;
  if (!NumTypeFromH5(o.type, &t)) Throw(env, "H5_ERR", std::string(fn) + ": " + path + " has a datatype we cannot read", "H5Dread");
  uint64_t bytes = SatMul(n, NumTypeSize(t));
  if (bytes > kMaxReadBytes) Throw(env, "H5_ERR", std::string(fn) + ": " + path + " is too large to read at once (" + std::to_string(bytes) + " bytes)", "H5Dread");
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(bytes));
  if (n > 0) Check(env, H5Dread(o.ds, NumTypeH5(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.Data()), "H5Dread", path);
  out.Set("data", buf);
  return out;
}

// h5Info(file, path) -> { type, shape, maxShape (Infinity = unlimited), chunkShape | null, elementSize }
Napi::Value Info(const Napi::CallbackInfo& info) {
  const char* fn = "h5Info";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& f = Lookup(env, a.Handle(0, "file"), Kind::File, fn);
  std::string path = a.Name(1, "path");
  FlushFileDatasets(env, f, true);
  Opened o = OpenForRead(env, f.id, path);
  Napi::Object out = Napi::Object::New(env);
  out.Set("type", TypeName(o.type));
  out.Set("shape", DimsToJs(env, o.dims));
  out.Set("maxShape", DimsToJs(env, o.maxDims));
  out.Set("elementSize", Napi::Number::New(env, static_cast<double>(H5Tget_size(o.type))));
  Hid dcpl(CheckId(env, H5Dget_create_plist(o.ds), "H5Dget_create_plist", path), H5Pclose);
  if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(o.dims.size() > 0 ? o.dims.size() : 1);
    int r = H5Pget_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    if (r < 0) Fail(env, "H5Pget_chunk", path);
    chunk.resize(r);
    out.Set("chunkShape", DimsToJs(env, chunk));
  } else {
    out.Set("chunkShape", env.Null());
  }
  return out;
}

// h5Filters(file, path) -> [{ id, name, flags, cdValues }]
Napi::Value Filters(const Napi::CallbackInfo& info) {
  const char* fn = "h5Filters";
  Args a(info, fn);
  Napi::Env env = a.Env();
  Object& f = Lookup(env, a.Handle(0, "file"), Kind::File, fn);
  std::string path = a.Name(1, "path");
  Hid ds(CheckId(env, H5Dopen2(f.id, path.c_str(), H5P_DEFAULT), "H5Dopen2", path), H5Dclose);
  Hid dcpl(CheckId(env, H5Dget_create_plist(ds), "H5Dget_create_plist", path), H5Pclose);
  int nf = H5Pget_nfilters(dcpl);
  if (nf < 0) Fail(env, "H5Pget_nfilters", path);
  Napi::Array out = Napi::Array::New(env, nf);
  for (int k = 0; k < nf; k++) {
    unsigned flags = 0, config = 0;
    size_t nelem = 16;
    unsigned cd[16] = {0};
    char name[256] = {0};
    H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(k), &flags, &nelem, cd, sizeof name, name, &config);
    if (id < 0) Fail(env, "H5Pget_filter2", path);
    Napi::Object e = Napi::Object::New(env);
    e.Set("id", Napi::Number::New(env, id));
    e.Set("name", Napi::String::New(env, name));
    e.Set("flags", Napi::Number::New(env, flags));
    size_t m = nelem < 16 ? nelem : 16;
    Napi::Array cdv = Napi::Array::New(env, m);
    for (size_t j = 0; j < m; j++) cdv.Set(static_cast<uint32_t>(j), Napi::Number::New(env, cd[j]));
    e.Set("cdValues", cdv);
    out.Set(static_cast<uint32_t>(k), e);
  }
  return out;
}

}  // namespace

bool FlushDataset(Object& o, std::string* error) {
  if (FlushPendingRaw(o) == nullptr && SyncExtentRaw(o) == nullptr) return true;
  if (error != nullptr) *error = TakeStackText();
  return false;
}

void FlushFileDatasets(Napi::Env env, Object& file, bool syncExtents) {
  std::vector<int64_t> children = file.children;  // Lookup does not modify the table
  for (int64_t c : children) {
    Object& o = Lookup(env, c, Kind::Dataset, "flush");
    FlushPending(env, o);
    if (syncExtents && SyncExtentRaw(o) != nullptr) Fail(env, "H5Dset_extent", o.path);
  }
}

namespace {

// The file offset of the first dimension in the dataset's dataspace message, or 0. Read from
// the file right after libhdf5 wrote the object header with extent o.h5Rows, and accepted only
// when the message found says exactly that: rank, every dimension, every maximum (unlimited,
// then the row shape). Version 1 object headers (what this library's files get), dataspace
// message version 1 or 2, 8-byte lengths (HDF5 file format specification, sections IV.A.1.a and
// IV.A.2.b); anything else leaves the extent to libhdf5.
uint64_t LocateDims(const Object& o) {
#if H5_VERSION_GE(1, 10, 3) && !H5_VERSION_GE(1, 12, 0)
  H5O_info_t info;
  if (H5Oget_info2(o.id, &info, H5O_INFO_BASIC) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  const uint64_t header = static_cast<uint64_t>(info.addr);
  uint8_t prefix[16];
  if (info.addr == HADDR_UNDEF || pread(o.directFd, prefix, 16, static_cast<off_t>(header)) != 16 || prefix[0] != 1) return 0;
  const uint64_t size = ReadLe(prefix + 8, 4);
  if (size < 8 || size > 65536) return 0;
  std::vector<uint8_t> chunk(static_cast<size_t>(size));
  if (pread(o.directFd, chunk.data(), chunk.size(), static_cast<off_t>(header + 16)) != static_cast<ssize_t>(chunk.size())) return 0;
  const size_t rank = o.rowShape.size() + 1;
  for (size_t p = 0; p + 8 <= chunk.size();) {
    const uint64_t type = ReadLe(&chunk[p], 2), length = ReadLe(&chunk[p + 2], 2);
    const size_t body = p + 8;
    if (body + length > chunk.size()) return 0;
    if (type == 1) {  // dataspace
      const uint8_t* d = &chunk[body];
      const size_t dimsOff = d[0] == 1 ? 8 : d[0] == 2 ? 4 : 0;
      if (dimsOff == 0 || d[1] != rank || (d[2] & 1) == 0 || dimsOff + 16 * rank > length) return 0;
      if (d[0] == 2 && d[3] != 1) return 0;  // simple dataspace
      const uint8_t* dims = d + dimsOff;
      const uint8_t* max = dims + 8 * rank;
      if (ReadLe(dims, 8) != o.h5Rows || ReadLe(max, 8) != UINT64_MAX) return 0;
      for (size_t k = 1; k < rank; k++) {
        if (ReadLe(dims + 8 * k, 8) != o.rowShape[k - 1] || ReadLe(max + 8 * k, 8) != o.rowShape[k - 1]) return 0;
      }
      return header + 16 + body + dimsOff;
    }
    p = body + length;
  }
#else
  (void)o;
#endif
  return 0;
}

}  // namespace

// libhdf5 spends ~8 us per dataset and flush growing the extent (H5Dset_extent) and writing
// the object header it changed (H5Fflush): for 30,000 datasets a flush a second, a quarter of a
// core. The datasets whose rows go straight into their chunks (WriteGatheredRows) have their
// extent written into their object header in the file instead, 8 bytes with one pwrite, after
// H5Fflush (so after their rows and chunk index are in the file: a killed writer leaves only
// rows that are there). libhdf5's own extent stays behind until something needs it (reads,
// closes, a new chunk, a cut), and libhdf5 never reads an object header back while the file is
// open (its metadata cache keeps them, evictions off). Every flush writes every such extent: a
// header libhdf5 wrote in the same flush, or whose stale bytes its metadata accumulator wrote
// back between two neighbours, holds an older (smaller) extent until then.
void RecordExtents(Napi::Env env, Object& file) {
  for (int64_t c : file.children) {
    Object& o = Lookup(env, c, Kind::Dataset, "flush");
    if (o.directFd < 0) continue;
    if (o.dimsAt == 0) {
      if (o.dimsLocated || o.h5Rows != o.rows) continue;  // libhdf5 has not written this extent
      o.dimsLocated = true;
      o.dimsAt = LocateDims(o);
      continue;
    }
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = static_cast<uint8_t>(o.rows >> (8 * i));
    if (!PwriteAll(o.directFd, le, 8, o.dimsAt, o.path)) Fail(env, "pwrite", o.path + ": recording the extent of " + std::to_string(o.rows) + " rows");
  }
}

void InitDataset(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "h5DatasetCreateNumeric", CreateNumeric);
  Export(env, exports, "h5DatasetCreateString", CreateString);
  Export(env, exports, "h5DatasetCreateBitshuffle", CreateBitshuffle);
  Export(env, exports, "h5DatasetAppend", Append);
  Export(env, exports, "h5DatasetAppendMany", AppendMany);
  Export(env, exports, "h5DatasetAppendStrings", AppendStrings);
  Export(env, exports, "h5DatasetWriteChunks", WriteChunks);
  Export(env, exports, "h5DatasetResize", Resize);
  Export(env, exports, "h5DatasetRows", Rows);
  Export(env, exports, "h5DatasetClose", Close);
  Export(env, exports, "h5Read", Read);
  Export(env, exports, "h5Info", Info);
  Export(env, exports, "h5Filters", Filters);
}

}  // namespace h5
