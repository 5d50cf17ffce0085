// Memory for every part of the core. `--runtime stub` gives a bump allocator that never
// frees; on top of it sit power-of-two size classes: alloc() rounds up to the class, free()
// takes the block back. Blocks are 16-byte aligned. Nothing here moves memory, so pointers
// stay valid; but any call that may allocate can grow memory, and JS must re-create its views
// afterwards.
//
// Small blocks (16 B – 1 KiB: chunk headers and buffers, one or two per series) come from
// 64 KiB slabs, 64 KiB-aligned, each holding blocks of one class:
//   +0 class u32, +4 blocks in use u32, +8 free list head u32, +12 bump offset u32 (blocks
//   past it were never handed out), +16 next / +20 previous slab with free blocks (of its
//   class), then the blocks from +32.
// A slab whose blocks are all free again goes back to a pool that any class can take. That
// matters when a million chunks grow in lockstep (all created by one scrape): as they move
// from the 64-byte class to the 128-byte one, the 64-byte slabs empty and become 128-byte
// slabs, instead of a million freed 64-byte blocks waiting for a class nobody asks for. The
// runtime's own allocator would also add a header and padding to every block (80 bytes for a
// 64-byte one).
//
// Larger blocks come from the runtime, one by one, onto per-class free lists when freed.

const MIN_SHIFT: i32 = 4; // 16 bytes
const MAX_SHIFT: i32 = 31; // 2 GiB
const freeLists = new StaticArray<usize>(MAX_SHIFT + 1);

const SLAB_SHIFT: i32 = 16;
const SLAB: usize = <usize>1 << SLAB_SHIFT;
const SLAB_MAX_SHIFT: i32 = 10; // blocks up to 1 KiB
const SLAB_HEADER: usize = 32;
const S_CLASS: usize = 0;
const S_USED: usize = 4;
const S_FREE: usize = 8;
const S_BUMP: usize = 12;
const S_NEXT: usize = 16;
const S_PREV: usize = 20;
/** Slabs carved from the runtime at a time (one region, aligned inside). */
const REGION_SLABS: usize = 64;

/** Per class: the first slab with a free block (0: none). */
const partial = new StaticArray<usize>(SLAB_MAX_SHIFT + 1);
/** Empty slabs, any class may take them (a stack linked through S_NEXT). */
let emptySlabs: usize = 0;
/** Never-used slabs of the current region: [regionNext, regionEnd). */
let regionNext: usize = 0;
let regionEnd: usize = 0;

/** Bytes taken from the runtime so far (never decreases). */
let heapBytes: usize = 0;

// One class between 32 and 64 bytes: 48, the size of an XOR chunk header (one per series).
const CLASS_48: i32 = 3;

function classOf(size: usize): i32 {
  if (size <= (<usize>1 << MIN_SHIFT)) return MIN_SHIFT;
  if (size > 32 && size <= 48) return CLASS_48;
  return <i32>(sizeof<usize>() * 8) - <i32>clz<usize>(size - 1);
}

// @ts-ignore: decorator
@inline function classSize(k: i32): usize {
  return k == CLASS_48 ? 48 : <usize>1 << k;
}

/** Size in bytes of the block alloc() hands out for `size`. */
export function blockSize(size: usize): usize {
  return classSize(classOf(size));
}

export function allocHeapBytes(): usize {
  return heapBytes;
}

/** Allocates at least `size` bytes (uninitialised), 16-byte aligned. Aborts past 2 GiB. */
export function alloc(size: usize): usize {
  const k = classOf(size);
  if (k > MAX_SHIFT) unreachable();
  if (k <= SLAB_MAX_SHIFT) return slabAlloc(k);
  const head = unchecked(freeLists[k]);
  if (head != 0) {
    unchecked((freeLists[k] = load<usize>(head)));
    return head;
  }
  heapBytes += <usize>1 << k;
  return heap.alloc(<usize>1 << k);
}

/** Returns a block from alloc(); `size` must be the size it was allocated with. */
export function free(ptr: usize, size: usize): void {
  if (ptr == 0) return;
  const k = classOf(size);
  if (k <= SLAB_MAX_SHIFT) {
    slabFree(ptr);
    return;
  }
  store<usize>(ptr, unchecked(freeLists[k]));
  unchecked((freeLists[k] = ptr));
}

/** Allocates and zero-fills. */
export function allocZeroed(size: usize): usize {
  const ptr = alloc(size);
  memory.fill(ptr, 0, blockSize(size));
  return ptr;
}

function newSlab(k: i32): usize {
  let s = emptySlabs;
  if (s != 0) {
    emptySlabs = <usize>load<u32>(s + S_NEXT);
  } else {
    if (regionNext == regionEnd) {
      const bytes = (REGION_SLABS + 1) * SLAB;
      heapBytes += bytes;
      const raw = heap.alloc(bytes);
      regionNext = (raw + SLAB - 1) & ~(SLAB - 1);
      regionEnd = regionNext + REGION_SLABS * SLAB;
    }
    s = regionNext;
    regionNext += SLAB;
  }
  store<u32>(s + S_CLASS, <u32>k);
  store<u32>(s + S_USED, 0);
  store<u32>(s + S_FREE, 0);
  store<u32>(s + S_BUMP, <u32>SLAB_HEADER);
  linkPartial(s, k);
  return s;
}

function linkPartial(s: usize, k: i32): void {
  const first = unchecked(partial[k]);
  store<u32>(s + S_NEXT, <u32>first);
  store<u32>(s + S_PREV, 0);
  if (first != 0) store<u32>(first + S_PREV, <u32>s);
  unchecked((partial[k] = s));
}

function unlinkPartial(s: usize, k: i32): void {
  const next = <usize>load<u32>(s + S_NEXT);
  const prev = <usize>load<u32>(s + S_PREV);
  if (prev != 0) store<u32>(prev + S_NEXT, <u32>next);
  else unchecked((partial[k] = next));
  if (next != 0) store<u32>(next + S_PREV, <u32>prev);
}

function slabAlloc(k: i32): usize {
  let s = unchecked(partial[k]);
  if (s == 0) s = newSlab(k);
  const size = classSize(k);
  let p = <usize>load<u32>(s + S_FREE);
  if (p != 0) {
    store<u32>(s + S_FREE, load<u32>(p));
  } else {
    p = s + <usize>load<u32>(s + S_BUMP);
    store<u32>(s + S_BUMP, <u32>(p + size - s));
  }
  store<u32>(s + S_USED, load<u32>(s + S_USED) + 1);
  // Full: no freed block and no room past the bump offset.
  if (load<u32>(s + S_FREE) == 0 && <usize>load<u32>(s + S_BUMP) + size > SLAB) unlinkPartial(s, k);
  return p;
}

function slabFree(p: usize): void {
  const s = p & ~(SLAB - 1);
  const k = <i32>load<u32>(s + S_CLASS);
  const size = classSize(k);
  const wasFull = load<u32>(s + S_FREE) == 0 && <usize>load<u32>(s + S_BUMP) + size > SLAB;
  store<u32>(p, load<u32>(s + S_FREE));
  store<u32>(s + S_FREE, <u32>p);
  const used = load<u32>(s + S_USED) - 1;
  store<u32>(s + S_USED, used);
  if (used == 0) {
    // Every block is free: the slab goes to the pool, for any class.
    if (!wasFull) unlinkPartial(s, k);
    store<u32>(s + S_NEXT, <u32>emptySlabs);
    emptySlabs = s;
  } else if (wasFull) {
    linkPartial(s, k);
  }
}
