#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define ES_PAUSE() _mm_pause()
#else
#define ES_PAUSE() std::this_thread::yield()
#endif

namespace es {
namespace {

thread_local bool in_task = false;

class Pool {
 public:
  ~Pool() { resize(1); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    threads = std::max(1, std::min(threads, 256));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      generation_++;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stop_ = false;
    for (int i = 1; i < threads; i++) workers_.emplace_back([this] { work(); });
  }

  void run(int count, const std::function<void(int)>& fn) {
    std::lock_guard<std::mutex> serial(run_mutex_);  // one job at a time
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      count_ = count;
      next_.store(0);
      done_.store(0);
      generation_++;
    }
    wake_.notify_all();
    drain(&fn, count);
    // Tasks are short and the other core is working: spin, then yield.
    wait_until([&] { return done_.load(std::memory_order_acquire) >= count; });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = nullptr;  // no worker joins this job from now on
    }
    // A worker that joined late may still be leaving drain(); it must be gone before next_ is reset.
    wait_until([&] { return active_.load(std::memory_order_acquire) == 0; });
  }

 private:
  template <typename Ready>
  static void wait_until(Ready ready) {
    for (int spins = 0; !ready(); spins++) {
      if (spins < 4096) ES_PAUSE(); else std::this_thread::yield();
    }
  }

  void drain(const std::function<void(int)>* job, int count) {
    in_task = true;
    for (int t; (t = next_.fetch_add(1)) < count;) {
      (*job)(t);
      done_.fetch_add(1, std::memory_order_release);
    }
    in_task = false;
  }

  void work() {
    enter_flush_denormals();  // for the worker's lifetime
    unsigned long seen = 0;
    for (;;) {
      // Spin briefly for back-to-back kernels, then sleep so an idle worker never steals the
      // core from OpenBLAS's own threads.
      for (int spins = 0; spins < 2000 && generation_.load() == seen; spins++) ES_PAUSE();
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_.load() != seen; });
      seen = generation_.load();
      if (stop_) return;
      if (job_ == nullptr) continue;
      const std::function<void(int)>* job = job_;
      int count = count_;
      active_.fetch_add(1);
      lock.unlock();
      drain(job, count);
      active_.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_, run_mutex_;
  std::condition_variable wake_;
  std::atomic<unsigned long> generation_{0};
  std::atomic<int> next_{0}, done_{0}, active_{0};
  const std::function<void(int)>* job_ = nullptr;
  int count_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool* instance = [] {
    auto* p = new Pool();  // never destroyed: workers must not be joined during static teardown
    unsigned hw = std::thread::hardware_concurrency();
    p->resize(hw == 0 ? 1 : static_cast<int>(hw));
    return p;
  }();
  return *instance;
}

}  // namespace

void parallel_for(int count, const std::function<void(int)>& fn) {
  if (count <= 0) return;
  if (count == 1 || in_task || pool().size() == 1) {
    for (int t = 0; t < count; t++) fn(t);
    return;
  }
  pool().run(count, fn);
}

void parallel_range(long total, long grain, const std::function<void(long, long)>& fn) {
  if (total <= 0) return;
  long parts = std::min<long>(num_threads(), std::max<long>(1, total / std::max<long>(grain, 1)));
  if (parts <= 1 || in_task) {
    fn(0, total);
    return;
  }
  long step = (total + parts - 1) / parts;
  parallel_for(static_cast<int>(parts), [&](int p) {
    long begin = p * step, end = std::min(total, begin + step);
    if (begin < end) fn(begin, end);
  });
}

FloatMode enter_flush_denormals() {
#if defined(__x86_64__) || defined(_M_X64)
  const FloatMode saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
  return saved;
#else
  return 0;
#endif
}

void leave_flush_denormals(FloatMode saved) {
#if defined(__x86_64__) || defined(_M_X64)
  _mm_setcsr(saved);
#else
  (void)saved;
#endif
}

void set_num_threads(int threads) {
  if (threads != pool().size()) pool().resize(threads);
}

// Inside a task the caller has one thread (nested parallelism runs serially): a kernel that
// splits its work by num_threads() then does not cut it into parts that one thread runs in turn.
int num_threads() { return in_task ? 1 : pool().size(); }

}  // namespace es
