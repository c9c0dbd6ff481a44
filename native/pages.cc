// Giving memory back to the operating system as soon as it is no longer used, so that the
// process's peak memory is what training holds, not what it once held.
#include <cstdint>

#include "kernels.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace es {

// x: n floats. Only whole pages inside the buffer are released (the allocator's own bookkeeping
// sits outside it); they read as zeros if touched again, the rest keeps its values.
void discard_pages(float* x, long n) {
#if defined(__linux__)
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(x) + page - 1) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(x + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
  (void)x;
  (void)n;
#endif
}

// glibc serves blocks above its mmap threshold (128 KiB) by mapping them, and unmaps them when
// freed; but each time such a block is freed it raises the threshold to that block's size, after
// which blocks of a few MiB come from its heap, where freed ones stay in the process. Training
// frees such blocks every step (memories replaced, buffers the pool let go): fixed at glibc's
// default, the threshold keeps them mapped, and a freed block is returned at once.
void keep_large_blocks_mapped() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace es
