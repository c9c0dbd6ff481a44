// A small persistent thread pool: the kernels' only source of parallelism. The calling (JavaScript)
// thread takes part in the work, so `threads` = 2 means one extra worker.
#pragma once
#include <functional>

namespace es {

// Runs fn(task) for every task in [0, count), spread over the pool. Returns when all are done.
// Called from inside a task it runs serially (no nested parallelism).
void parallel_for(int count, const std::function<void(int)>& fn);

// Splits [0, total) into at most num_threads() contiguous ranges of at least `grain` items and
// runs fn(begin, end) on each.
void parallel_range(long total, long grain, const std::function<void(long, long)>& fn);

void set_num_threads(int threads);

// The floating-point mode of the calling thread (x86: MXCSR), and switching it to flush
// denormals to zero (FTZ and DAZ) for the duration of a kernel. Pool workers always run so.
using FloatMode = unsigned;
FloatMode enter_flush_denormals();
void leave_flush_denormals(FloatMode saved);
// Threads the caller can use: the pool's size, or 1 inside a task.
int num_threads();

}  // namespace es
