// Memory for every part of the core. `--runtime stub` gives a bump allocator that never
// frees, which suits the hot path but not long-lived structures that come and go (a scrape
// cache per target, arenas that grow). On top of it sits a power-of-two size-class free
// list: alloc() rounds up to the class, free() puts the block back on its class list.
// Blocks are 16-byte aligned. Nothing here moves memory, so pointers stay valid; but any
// call that may allocate can grow memory, and JS must re-create its views afterwards.

const MIN_SHIFT: i32 = 4; // 16 bytes
const MAX_SHIFT: i32 = 31; // 2 GiB
const freeLists = new StaticArray<usize>(MAX_SHIFT + 1);

function classOf(size: usize): i32 {
  if (size <= (<usize>1 << MIN_SHIFT)) return MIN_SHIFT;
  return <i32>(sizeof<usize>() * 8) - <i32>clz<usize>(size - 1);
}

/** Size in bytes of the block alloc() hands out for `size`. */
export function blockSize(size: usize): usize {
  return <usize>1 << classOf(size);
}

/** Allocates at least `size` bytes (uninitialised), 16-byte aligned. Aborts past 2 GiB. */
export function alloc(size: usize): usize {
  const k = classOf(size);
  if (k > MAX_SHIFT) unreachable();
  const head = unchecked(freeLists[k]);
  if (head != 0) {
    unchecked((freeLists[k] = load<usize>(head)));
    return head;
  }
  if (k <= SLAB_MAX_SHIFT) return carve(k);
  heapBytes += <usize>1 << k;
  return heap.alloc(<usize>1 << k);
}

/** Bytes taken from the runtime so far (blocks on free lists included; never decreases). */
let heapBytes: usize = 0;
export function allocHeapBytes(): usize {
  return heapBytes;
}

// Small blocks (chunk headers and buffers, one or two per series) are carved from 64 KiB
// slabs: the runtime's own allocator adds a header and 16-byte alignment padding to every
// block it hands out (80 bytes for a 64-byte block), which at a million series is tens of MB.
const SLAB_SHIFT: i32 = 16;
const SLAB_MAX_SHIFT: i32 = 10; // blocks up to 1 KiB

/** Splits a fresh slab into blocks of class k: returns the first, lists the rest. */
function carve(k: i32): usize {
  const size = <usize>1 << k;
  heapBytes += <usize>1 << SLAB_SHIFT;
  const slab = heap.alloc(<usize>1 << SLAB_SHIFT);
  let next: usize = 0;
  for (let p = slab + (<usize>1 << SLAB_SHIFT) - size; p > slab; p -= size) {
    store<usize>(p, next);
    next = p;
  }
  unchecked((freeLists[k] = next));
  return slab;
}

/** Returns a block from alloc(); `size` must be the size it was allocated with. */
export function free(ptr: usize, size: usize): void {
  if (ptr == 0) return;
  const k = classOf(size);
  store<usize>(ptr, unchecked(freeLists[k]));
  unchecked((freeLists[k] = ptr));
}

/** Allocates and zero-fills. */
export function allocZeroed(size: usize): usize {
  const ptr = alloc(size);
  memory.fill(ptr, 0, blockSize(size));
  return ptr;
}
