// bitshuffle_lz4 (bsread-protocol.md §6.2) and lz4 (§6.3) containers around liblz4 and the
// bit-shuffle kernels in bitshuffle.c.
//
// Every byte handed to a decoder comes from the network: each length is checked before it is
// used, and any inconsistency throws a JS Error whose `code` is BSREAD_ERR_COMPRESSION (the
// TypeScript side turns it into a BsreadError). Bad arguments (not data) throw TypeError or
// RangeError (args.h); an encoder failure of liblz4 itself is LZ4_ERR (errors.h).
#include <napi.h>

#include <lz4.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "bitshuffle.h"
#include "errors.h"

namespace {

constexpr uint64_t kMaxSafeInteger = 9007199254740991ULL;  // 2^53 - 1, largest exact JS integer
constexpr size_t kMaxElemSize = 1 << 20;                    // no bsread type comes near; bounds scratch
constexpr size_t kHeaderBytes = 12;

// LZ4 cannot expand one input byte to more than 255 output bytes (a run of 255-valued match
// length bytes is the best case). Declared sizes beyond this are lies, found before allocating.
bool ExceedsLz4Expansion(uint64_t outBytes, uint64_t inBytes) { return outBytes > 256 * inBytes + 64; }

// A data error: the blob or frame is not what its header says.
[[noreturn]] void Fail(Napi::Env env, const std::string& message) { sf::ThrowCoded(env, "BSREAD_ERR_COMPRESSION", message); }

// liblz4's encoder itself failed (should not happen with a bound-sized output).
[[noreturn]] void Lz4Fail(Napi::Env env, const std::string& message) {
  sf::ThrowCoded(env, "LZ4_ERR", message, "lz4Function", "LZ4_compress_default");
}

std::string Str(uint64_t v) { return std::to_string(v); }

uint64_t ReadBe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

uint32_t ReadBe32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

uint32_t ReadLe32(const uint8_t* p) {
  return (uint32_t(p[3]) << 24) | (uint32_t(p[2]) << 16) | (uint32_t(p[1]) << 8) | uint32_t(p[0]);
}

void WriteBe64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = uint8_t(v);
}

void WriteBe32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8) p[i] = uint8_t(v);
}

void WriteLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++, v >>= 8) p[i] = uint8_t(v);
}

using Bytes = sf::ByteView;

// ---- bitshuffle_lz4 block layout ----

// How N elements split into blocks (bshuf_blocked_wrap_fun, §6.2): full blocks of B elements,
// one last block of the remainder rounded down to a multiple of 8, then a raw tail of N mod 8.
struct Layout {
  uint64_t elems;       // N
  uint64_t blockElems;  // B
  uint64_t fullBlocks;
  uint64_t lastElems;  // 0 when there is no last partial block
  uint64_t tailBytes;

  uint64_t Blocks() const { return fullBlocks + (lastElems > 0 ? 1 : 0); }
  uint64_t ElemsOf(uint64_t block) const { return block < fullBlocks ? blockElems : lastElems; }
  // The largest block actually present, in elements (scratch size).
  uint64_t MaxBlockElems() const { return fullBlocks > 0 ? blockElems : lastElems; }
};

Layout MakeLayout(uint64_t elems, uint64_t blockElems, size_t elemSize) {
  uint64_t rest = elems % blockElems;
  return Layout{elems, blockElems, elems / blockElems, rest - rest % 8, (elems % 8) * elemSize};
}

// Scratch memory for one block: LZ4 output and (when transposing) the byte rows between the two
// transpose steps.
struct Scratch {
  std::unique_ptr<uint8_t[]> a, b;
  explicit Scratch(uint64_t bytes, bool transpose = true)
      : a(new uint8_t[bytes ? bytes : 1]), b(transpose ? new uint8_t[bytes ? bytes : 1] : nullptr) {}
};

// Block size in elements from the header field (bytes; 0 = the default for this element size).
uint64_t BlockElemsFromHeader(Napi::Env env, uint32_t field, size_t elemSize) {
  if (field == 0) return bs_default_block_elems(elemSize);
  if (field % elemSize != 0) {
    Fail(env, "bitshuffle_lz4 block size " + Str(field) + " bytes is not a multiple of the element size " + Str(elemSize));
  }
  uint64_t elems = field / elemSize;
  if (elems % 8 != 0) {
    Fail(env, "bitshuffle_lz4 block size of " + Str(elems) + " elements is not a multiple of 8");
  }
  return elems;
}

// Decodes every block into `out`; with out == nullptr only checks that every block is valid LZ4
// of exactly its size (the same LZ4_decompress_safe verdict, into one small reused block buffer
// that stays in cache, and without the bit transpose): what HDF5's filter will need on reading.
void DecodeBlocks(Napi::Env env, Bytes blob, const Layout& layout, size_t elemSize, uint8_t* out) {
  uint64_t maxBlockBytes = layout.MaxBlockElems() * elemSize;
  if (maxBlockBytes > uint64_t(LZ4_MAX_INPUT_SIZE)) {
    Fail(env, "bitshuffle_lz4 block of " + Str(maxBlockBytes) + " bytes is larger than LZ4 supports");
  }
  Scratch scratch(maxBlockBytes, out != nullptr);
  size_t pos = kHeaderBytes;
  for (uint64_t block = 0; block < layout.Blocks(); block++) {
    uint64_t elems = layout.ElemsOf(block);
    int bytes = int(elems * elemSize);
    size_t remain = blob.len - pos;
    if (remain < 4) {
      Fail(env, "bitshuffle_lz4 block " + Str(block) + " length field needs 4 bytes but only " + Str(remain) + " remain");
    }
    uint32_t compressed = ReadBe32(blob.data + pos);
    pos += 4;
    remain -= 4;
    if (compressed > remain) {
      Fail(env, "bitshuffle_lz4 block " + Str(block) + " declares " + Str(compressed) + " bytes but only " + Str(remain) +
                    " remain");
    }
    int got = LZ4_decompress_safe(reinterpret_cast<const char*>(blob.data + pos), reinterpret_cast<char*>(scratch.a.get()),
                                  int(compressed), bytes);
    if (got != bytes) {
      Fail(env, "bitshuffle_lz4 block " + Str(block) + " (" + Str(compressed) + " bytes) " +
                    (got < 0 ? "is not valid LZ4 or expands beyond " : "expands to " + Str(uint64_t(got)) + " bytes instead of ") +
                    Str(uint64_t(bytes)) + " bytes");
    }
    if (out != nullptr) bs_bitunshuffle(scratch.a.get(), out + block * layout.blockElems * elemSize, scratch.b.get(), elems, elemSize);
    pos += compressed;
  }
  size_t remain = blob.len - pos;
  if (remain != layout.tailBytes) {
    Fail(env, "bitshuffle_lz4 tail should be " + Str(layout.tailBytes) + " bytes but " + Str(remain) +
                  " bytes follow the last block");
  }
  if (remain > 0 && out != nullptr) std::memcpy(out + layout.elems * elemSize - layout.tailBytes, blob.data + pos, remain);
}

// Reads and checks the header; the returned layout is consistent with the blob's length.
Layout CheckBitshuffleHeader(Napi::Env env, Bytes blob, size_t elemSize, uint64_t maxBytes) {
  if (blob.len < kHeaderBytes) {
    Fail(env, "bitshuffle_lz4 blob is " + Str(blob.len) + " bytes, shorter than its 12-byte header");
  }
  uint64_t total = ReadBe64(blob.data);
  if (total > maxBytes) {
    Fail(env, "bitshuffle_lz4 header declares " + Str(total) + " bytes, more than the limit of " + Str(maxBytes));
  }
  if (total % elemSize != 0) {
    Fail(env, "bitshuffle_lz4 header declares " + Str(total) + " bytes, not a multiple of the element size " + Str(elemSize));
  }
  Layout layout = MakeLayout(total / elemSize, BlockElemsFromHeader(env, ReadBe32(blob.data + 8), elemSize), elemSize);
  // Cheap plausibility checks before allocating `total` bytes: every block needs at least a
  // length field and one LZ4 byte, and LZ4's expansion is bounded.
  uint64_t payload = blob.len - kHeaderBytes;
  uint64_t minPayload = layout.Blocks() * 5 + layout.tailBytes;
  if (payload < minPayload) {
    Fail(env, "bitshuffle_lz4 blob declares " + Str(total) + " bytes in " + Str(layout.Blocks()) + " blocks and a " +
                  Str(layout.tailBytes) + "-byte tail, which needs at least " + Str(minPayload + kHeaderBytes) +
                  " bytes, but it is " + Str(blob.len) + " bytes");
  }
  uint64_t lz4Bytes = payload - layout.tailBytes - 4 * layout.Blocks();
  if (ExceedsLz4Expansion(total - layout.tailBytes, lz4Bytes)) {
    Fail(env, "bitshuffle_lz4 header declares " + Str(total) + " bytes, more than LZ4 can produce from " + Str(lz4Bytes) +
                  " compressed bytes");
  }
  return layout;
}

// bitshuffleLz4Decompress(blob: Uint8Array, elemSize: number, maxBytes: number): Buffer
Napi::Value BitshuffleLz4Decompress(const Napi::CallbackInfo& info) {
  sf::Args a(info, "bitshuffleLz4Decompress");
  Napi::Env env = a.Env();
  Bytes blob = a.Uint8(0, "blob");
  size_t elemSize = size_t(a.Integer(1, "elemSize", 1, kMaxElemSize));
  uint64_t maxBytes = a.Integer(2, "maxBytes", 0, kMaxSafeInteger);
  Layout layout = CheckBitshuffleHeader(env, blob, elemSize, maxBytes);
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, size_t(layout.elems * elemSize));
  DecodeBlocks(env, blob, layout, elemSize, out.Data());
  return out;
}

// bitshuffleLz4DecompressInto(blob: Uint8Array, elemSize: number, target: Uint8Array): number
// For callers that reuse one output buffer: fresh buffers cost page faults on every call.
Napi::Value BitshuffleLz4DecompressInto(const Napi::CallbackInfo& info) {
  sf::Args a(info, "bitshuffleLz4DecompressInto");
  Napi::Env env = a.Env();
  Bytes blob = a.Uint8(0, "blob");
  size_t elemSize = size_t(a.Integer(1, "elemSize", 1, kMaxElemSize));
  Napi::Uint8Array target = a.Typed(2, "target", napi_uint8_array, "a Uint8Array").As<Napi::Uint8Array>();
  Layout layout = CheckBitshuffleHeader(env, blob, elemSize, target.ByteLength());
  if (target.ByteLength() > 0 && (target.Data() < blob.data + blob.len && blob.data < target.Data() + target.ByteLength())) {
    a.RangeFail("target overlaps the blob");
  }
  DecodeBlocks(env, blob, layout, elemSize, target.Data());
  return Napi::Number::New(env, double(layout.elems * elemSize));
}

// bitshuffleLz4Check(blob: Uint8Array, elemSize: number, expectedBytes: number): undefined
// Throws unless the blob declares exactly expectedBytes and every block decodes: the writer's
// check before storing a frame unchanged as an HDF5 chunk (a bad chunk would make the dataset
// unreadable), at a fraction of the cost of a full decode.
Napi::Value BitshuffleLz4Check(const Napi::CallbackInfo& info) {
  sf::Args a(info, "bitshuffleLz4Check");
  Napi::Env env = a.Env();
  Bytes blob = a.Uint8(0, "blob");
  size_t elemSize = size_t(a.Integer(1, "elemSize", 1, kMaxElemSize));
  uint64_t expected = a.Integer(2, "expectedBytes", 0, kMaxSafeInteger);
  Layout layout = CheckBitshuffleHeader(env, blob, elemSize, expected);
  if (layout.elems * elemSize != expected) {
    Fail(env, "bitshuffle_lz4 header declares " + Str(layout.elems * elemSize) + " bytes, " + Str(expected) + " expected");
  }
  DecodeBlocks(env, blob, layout, elemSize, nullptr);
  return env.Undefined();
}

// bitshuffleLz4Compress(data: Uint8Array, elemSize: number, blockBytes: number /* 0 = default */): Buffer
Napi::Value BitshuffleLz4Compress(const Napi::CallbackInfo& info) {
  sf::Args a(info, "bitshuffleLz4Compress");
  Napi::Env env = a.Env();
  Bytes data = a.Uint8(0, "data");
  size_t elemSize = size_t(a.Integer(1, "elemSize", 1, kMaxElemSize));
  uint64_t blockBytes = a.Integer(2, "blockBytes", 0, UINT32_MAX);
  if (data.len % elemSize != 0) {
    a.RangeFail("data is " + Str(data.len) + " bytes, not a multiple of the element size " + Str(elemSize));
  }
  uint64_t blockElems = blockBytes == 0 ? bs_default_block_elems(elemSize) : blockBytes / elemSize;
  if (blockBytes % elemSize != 0 || blockElems == 0 || blockElems % 8 != 0) {
    a.RangeFail("block size " + Str(blockBytes) + " bytes is not a positive multiple of 8 elements of " + Str(elemSize) + " bytes");
  }
  if (blockElems * elemSize > UINT32_MAX) a.RangeFail("block size does not fit the 32-bit header field");
  Layout layout = MakeLayout(data.len / elemSize, blockElems, elemSize);
  uint64_t maxBlockBytes = layout.MaxBlockElems() * elemSize;
  if (maxBlockBytes > uint64_t(LZ4_MAX_INPUT_SIZE)) a.RangeFail("block of " + Str(maxBlockBytes) + " bytes is too large for LZ4");

  uint64_t bound = kHeaderBytes + layout.tailBytes;
  for (uint64_t block = 0; block < layout.Blocks(); block++) {
    bound += 4 + uint64_t(LZ4_compressBound(int(layout.ElemsOf(block) * elemSize)));
  }
  std::vector<uint8_t> dst(bound);
  WriteBe64(dst.data(), data.len);
  WriteBe32(dst.data() + 8, uint32_t(blockElems * elemSize));
  Scratch scratch(maxBlockBytes);
  size_t pos = kHeaderBytes;
  for (uint64_t block = 0; block < layout.Blocks(); block++) {
    uint64_t elems = layout.ElemsOf(block);
    int bytes = int(elems * elemSize);
    bs_bitshuffle(data.data + block * blockElems * elemSize, scratch.a.get(), scratch.b.get(), elems, elemSize);
    int written = LZ4_compress_default(reinterpret_cast<const char*>(scratch.a.get()), reinterpret_cast<char*>(dst.data() + pos + 4),
                                       bytes, int(dst.size() - pos - 4));
    if (written <= 0) Lz4Fail(env, "LZ4_compress_default failed on block " + Str(block));
    WriteBe32(dst.data() + pos, uint32_t(written));
    pos += 4 + size_t(written);
  }
  std::memcpy(dst.data() + pos, data.data + data.len - layout.tailBytes, layout.tailBytes);
  pos += layout.tailBytes;
  return Napi::Buffer<uint8_t>::Copy(env, dst.data(), pos);
}

// ---- lz4 frame (§6.3) ----

// Tries one reading of the size prefix. Returns true and sets `out` on success; otherwise
// explains in `why` and leaves `out` alone.
bool TryLz4(Napi::Env env, Bytes frame, uint32_t size, const char* order, uint64_t maxBytes, Napi::Buffer<uint8_t>& out,
            std::string& why) {
  std::string prefix = std::string(order) + " prefix declares " + Str(size) + " bytes";
  uint64_t compressed = frame.len - 4;
  if (size == 0 && compressed == 0) {
    // Nothing to decompress: PSI's sender compresses "" to the bare prefix, with no block.
    out = Napi::Buffer<uint8_t>::New(env, 0);
    return true;
  }
  if (size > maxBytes) {
    why = prefix + ", more than the limit of " + Str(maxBytes);
    return false;
  }
  if (size > uint64_t(INT_MAX) || compressed > uint64_t(LZ4_MAX_INPUT_SIZE)) {
    why = prefix + ", more than LZ4 supports";
    return false;
  }
  if (ExceedsLz4Expansion(size, compressed)) {
    why = prefix + ", more than LZ4 can produce from " + Str(compressed) + " bytes";
    return false;
  }
  Napi::Buffer<uint8_t> buffer = Napi::Buffer<uint8_t>::New(env, size);
  int got = LZ4_decompress_safe(reinterpret_cast<const char*>(frame.data + 4), reinterpret_cast<char*>(buffer.Data()),
                                int(compressed), int(size));
  if (got != int(size)) {
    why = prefix + (got < 0 ? " but the block is not valid LZ4 or expands beyond that"
                            : " but the block expands to " + Str(uint64_t(got)) + " bytes");
    return false;
  }
  out = buffer;
  return true;
}

// lz4Decompress(frame: Uint8Array, preferBigEndian: boolean, maxBytes: number): Buffer
Napi::Value Lz4Decompress(const Napi::CallbackInfo& info) {
  sf::Args a(info, "lz4Decompress");
  Napi::Env env = a.Env();
  Bytes frame = a.Uint8(0, "frame");
  bool preferBig = a.Bool(1, "preferBigEndian");
  uint64_t maxBytes = a.Integer(2, "maxBytes", 0, kMaxSafeInteger);
  if (frame.len < 4) Fail(env, "lz4 frame is " + Str(frame.len) + " bytes, shorter than its 4-byte size prefix");
  uint32_t big = ReadBe32(frame.data), little = ReadLe32(frame.data);
  uint32_t first = preferBig ? big : little, second = preferBig ? little : big;
  const char* firstName = preferBig ? "big-endian" : "little-endian";
  const char* secondName = preferBig ? "little-endian" : "big-endian";
  Napi::Buffer<uint8_t> out;
  std::string why1, why2;
  if (TryLz4(env, frame, first, firstName, maxBytes, out, why1)) return out;
  // Producers disagree on the prefix byte order (§11 item 2), so the other order is a fallback.
  if (second != first && TryLz4(env, frame, second, secondName, maxBytes, out, why2)) return out;
  Fail(env, "lz4 frame cannot be decoded: " + why1 + (second != first ? "; " + why2 : ""));
}

// lz4Compress(data: Uint8Array, bigEndianPrefix: boolean): Buffer
Napi::Value Lz4Compress(const Napi::CallbackInfo& info) {
  sf::Args a(info, "lz4Compress");
  Napi::Env env = a.Env();
  Bytes data = a.Uint8(0, "data");
  bool big = a.Bool(1, "bigEndianPrefix");
  if (data.len > uint64_t(LZ4_MAX_INPUT_SIZE)) a.RangeFail("data of " + Str(data.len) + " bytes is too large for LZ4");
  int bound = LZ4_compressBound(int(data.len));
  std::vector<uint8_t> dst(4 + size_t(bound));
  int written = LZ4_compress_default(reinterpret_cast<const char*>(data.data), reinterpret_cast<char*>(dst.data() + 4),
                                     int(data.len), bound);
  if (written <= 0) Lz4Fail(env, "LZ4_compress_default failed");
  if (big) {
    WriteBe32(dst.data(), uint32_t(data.len));
  } else {
    WriteLe32(dst.data(), uint32_t(data.len));
  }
  return Napi::Buffer<uint8_t>::Copy(env, dst.data(), 4 + size_t(written));
}

// ---- raw transpose, for tests and tools ----

using Kernel = void (*)(const uint8_t*, uint8_t*, uint8_t*, size_t, size_t);

Napi::Value RunKernel(const Napi::CallbackInfo& info, const char* fn, Kernel kernel) {
  sf::Args a(info, fn);
  Napi::Env env = a.Env();
  Bytes data = a.Uint8(0, "data");
  size_t elemSize = size_t(a.Integer(1, "elemSize", 1, kMaxElemSize));
  if (data.len % (8 * elemSize) != 0) {
    a.RangeFail("data is " + Str(data.len) + " bytes, not a multiple of 8 elements of " + Str(elemSize) + " bytes");
  }
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, data.len);
  std::unique_ptr<uint8_t[]> scratch(new uint8_t[data.len ? data.len : 1]);
  kernel(data.data, out.Data(), scratch.get(), data.len / elemSize, elemSize);
  return out;
}

Napi::Value Bitshuffle(const Napi::CallbackInfo& info) { return RunKernel(info, "bitshuffle", bs_bitshuffle); }
Napi::Value Bitunshuffle(const Napi::CallbackInfo& info) { return RunKernel(info, "bitunshuffle", bs_bitunshuffle); }

}  // namespace

void InitCompression(Napi::Env env, Napi::Object exports) {
  exports.Set("bitshuffleLz4Decompress", Napi::Function::New(env, BitshuffleLz4Decompress, "bitshuffleLz4Decompress"));
  exports.Set("bitshuffleLz4DecompressInto",
              Napi::Function::New(env, BitshuffleLz4DecompressInto, "bitshuffleLz4DecompressInto"));
  exports.Set("bitshuffleLz4Compress", Napi::Function::New(env, BitshuffleLz4Compress, "bitshuffleLz4Compress"));
  exports.Set("bitshuffleLz4Check", Napi::Function::New(env, BitshuffleLz4Check, "bitshuffleLz4Check"));
  exports.Set("lz4Decompress", Napi::Function::New(env, Lz4Decompress, "lz4Decompress"));
  exports.Set("lz4Compress", Napi::Function::New(env, Lz4Compress, "lz4Compress"));
  exports.Set("bitshuffle", Napi::Function::New(env, Bitshuffle, "bitshuffle"));
  exports.Set("bitunshuffle", Napi::Function::New(env, Bitunshuffle, "bitunshuffle"));
}
