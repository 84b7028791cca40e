// A bounded, closeable multi-producer multi-consumer queue: the hand-off between the merge
// stage's reader thread, its inference loop and its compositing/writer threads. The bound is what
// keeps a fast decoder from filling memory with frames a slow model has not reached yet; close()
// ends the stream (pop drains what is left, then returns false) and, with drop, also unblocks
// everybody at once when a stage fails.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace facet::merge {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : cap_(capacity ? capacity : 1) {}

  // Blocks while full. Returns false (and drops v) once the queue is closed.
  bool push(T v) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return closed_ || q_.size() < cap_; });
    if (closed_) return false;
    q_.push_back(std::move(v));
    not_empty_.notify_one();
    return true;
  }

  // Blocks while empty and open. False when closed and drained.
  bool pop(T& v) {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait(l, [&] { return closed_ || !q_.empty(); });
    if (q_.empty()) return false;
    v = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }

  // Non-blocking pop: false when nothing is queued right now.
  bool try_pop(T& v) {
    std::lock_guard<std::mutex> l(mu_);
    if (q_.empty()) return false;
    v = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return true;
  }

  // No more pushes; consumers drain what is queued. drop = also discard it (error paths).
  void close(bool drop = false) {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    if (drop) q_.clear();
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  size_t cap_;
  std::deque<T> q_;
  bool closed_ = false;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
};

}  // namespace facet::merge
