// BlockPool: recycled message blocks of the native receivers (zmq_transport.h).
//
// A big block freed back to glibc does not stay warm: mmap'd blocks are unmapped, and a block
// from a thread's malloc arena goes back to the kernel when the arena's top heap empties, so the
// next message's block faulted in fresh zeroed pages. Blocks are freed when V8 collects their
// Buffer, in bursts of everything that became garbage since the last major GC. With two cameras
// (3.4 MB messages at 100 Hz, 340 MB/s) a pool of 64 MiB caught a fraction of a burst: the
// buffer spent ~45 % of its CPU zeroing pages (perf: clear_page_erms under the receiver's
// memcpy). The pool therefore keeps up to kPoolMaxBytes, and gives a block back to malloc once it
// has waited kPoolMaxIdle unused, so that memory is held only while messages keep coming. What it
// holds is what V8 would otherwise have held as garbage until the collection: the process peak
// stays about the same.
#include <cstdlib>

#include "zmq_transport.h"

namespace zmqt {

namespace {
constexpr size_t kPoolMinBlock = 128 * 1024;
constexpr size_t kPoolMaxBytes = 1024u * 1024 * 1024;
constexpr size_t kPoolMaxBlocks = 4096;
constexpr auto kPoolMaxIdle = std::chrono::seconds(5);
}  // namespace

uint8_t* BlockPool::take(size_t want, size_t& cap) {
  if (want < kPoolMinBlock / 2) return nullptr;
  trimIdle();
  uint8_t* p = nullptr;
  {
    std::lock_guard<std::mutex> lk(mu_);
    size_t best = blocks_.size();
    for (size_t i = 0; i < blocks_.size(); i++) {
      size_t c = blocks_[i].cap;
      if (c < want / 2 || c / 2 > want) continue;
      if (best == blocks_.size()) {
        best = i;
        continue;
      }
      size_t b = blocks_[best].cap;
      // A block that fits beats one that does not; among fitting, the smaller; else the bigger.
      if (c >= want ? (b < want || c < b) : (b < want && c > b)) best = i;
    }
    if (best != blocks_.size()) {
      p = blocks_[best].p;
      cap = blocks_[best].cap;
      blocks_[best] = blocks_.back();
      blocks_.pop_back();
      bytes_ -= cap;
    }
  }
  return p;
}

void BlockPool::give(uint8_t* p, size_t cap) {
  if (p == nullptr) return;
  if (cap >= kPoolMinBlock) {
    trimIdle();
    std::lock_guard<std::mutex> lk(mu_);
    if (users_ > 0 && bytes_ + cap <= kPoolMaxBytes && blocks_.size() < kPoolMaxBlocks) {
      blocks_.push_back(Block{p, cap, std::chrono::steady_clock::now()});
      bytes_ += cap;
      return;
    }
  }
  std::free(p);
}

void BlockPool::trimIdle() {
  // Collected under the lock, freed outside it.
  std::vector<uint8_t*> idle;
  {
    std::lock_guard<std::mutex> lk(mu_);
    const auto oldest = std::chrono::steady_clock::now() - kPoolMaxIdle;
    for (size_t i = 0; i < blocks_.size();) {
      if (blocks_[i].given < oldest) {
        idle.push_back(blocks_[i].p);
        bytes_ -= blocks_[i].cap;
        blocks_[i] = blocks_.back();
        blocks_.pop_back();
      } else {
        i++;
      }
    }
  }
  for (uint8_t* q : idle) std::free(q);
}

void BlockPool::addUser() {
  std::lock_guard<std::mutex> lk(mu_);
  users_++;
}

void BlockPool::removeUser() {
  std::vector<Block> drop;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (--users_ > 0) return;
    drop.swap(blocks_);
    bytes_ = 0;
  }
  for (auto& b : drop) std::free(b.p);
}

BlockPool& pool() {
  static BlockPool* p = new BlockPool();
  return *p;
}

}  // namespace zmqt
