// BlockPool: recycled message blocks of the native receivers (zmq_transport.h).
//
// A big block (> 128 KiB) freed back to glibc is unmapped or trimmed with MADV_DONTNEED, so the
// next message's block faulted in fresh zeroed pages: with 1 MB messages at 100 Hz that zeroing
// plus the page faults cost more CPU than the copy itself. Blocks are freed when V8 collects
// their Buffer, in bursts of tens of MB per major GC; the pool keeps up to kPoolMaxBytes of them
// for the receiver threads to reuse. Small blocks go straight back to malloc, whose free lists
// already reuse them without new pages.
#include <cstdlib>

#include "zmq_transport.h"

namespace zmqt {

namespace {
constexpr size_t kPoolMinBlock = 128 * 1024;
constexpr size_t kPoolMaxBytes = 64u * 1024 * 1024;
constexpr size_t kPoolMaxBlocks = 256;
}  // namespace

uint8_t* BlockPool::take(size_t want, size_t& cap) {
  if (want < kPoolMinBlock / 2) return nullptr;
  std::lock_guard<std::mutex> lk(mu_);
  size_t best = blocks_.size();
  for (size_t i = 0; i < blocks_.size(); i++) {
    size_t c = blocks_[i].second;
    if (c < want / 2 || c / 2 > want) continue;
    if (best == blocks_.size()) {
      best = i;
      continue;
    }
    size_t b = blocks_[best].second;
    // A block that fits beats one that does not; among fitting, the smaller; else the bigger.
    if (c >= want ? (b < want || c < b) : (b < want && c > b)) best = i;
  }
  if (best == blocks_.size()) return nullptr;
  uint8_t* p = blocks_[best].first;
  cap = blocks_[best].second;
  blocks_[best] = blocks_.back();
  blocks_.pop_back();
  bytes_ -= cap;
  return p;
}

void BlockPool::give(uint8_t* p, size_t cap) {
  if (p == nullptr) return;
  if (cap >= kPoolMinBlock) {
    std::lock_guard<std::mutex> lk(mu_);
    if (users_ > 0 && bytes_ + cap <= kPoolMaxBytes && blocks_.size() < kPoolMaxBlocks) {
      blocks_.emplace_back(p, cap);
      bytes_ += cap;
      return;
    }
  }
  std::free(p);
}

void BlockPool::addUser() {
  std::lock_guard<std::mutex> lk(mu_);
  users_++;
}

void BlockPool::removeUser() {
  std::vector<std::pair<uint8_t*, size_t>> drop;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (--users_ > 0) return;
    drop.swap(blocks_);
    bytes_ = 0;
  }
  for (auto& b : drop) std::free(b.first);
}

BlockPool& pool() {
  static BlockPool* p = new BlockPool();
  return *p;
}

}  // namespace zmqt
