// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-cpu-parallelize="min-work=1024" | FileCheck %s
// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-cpu-parallelize="min-work=1024 min-region-work=0" | FileCheck %s --check-prefix=NOREGION
// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-cpu-parallelize="min-work=1024" -convert-scf-to-openmp -canonicalize | FileCheck %s --check-prefix=OMP

// dlc-cpu-parallelize: one parallel region per loop nest, at its outermost
// independent loop, where there is enough work.

// The schedule's tile loop (dlc.parallel) becomes scf.parallel; the loops
// inside it stay sequential.

// CHECK-LABEL: func @tile_loop
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c64) step (%c4)
// CHECK-NOT: dlc.parallel
// CHECK: scf.for
// CHECK: vector.store {{.*}}[%[[I]], %{{.*}}]
// OMP-LABEL: func @tile_loop
// OMP: omp.parallel
// OMP: omp.wsloop
// OMP: omp.loop_nest
// OMP-NOT: omp.parallel
func.func @tile_loop(%out: memref<64x128xf32>, %v: vector<16xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  scf.for %i = %c0 to %c64 step %c4 {
    scf.for %j = %c0 to %c128 step %c16 {
      vector.store %v, %out[%i, %j] : memref<64x128xf32>, vector<16xf32>
    }
  } {dlc.parallel}
  return
}

// -----

// An scf.parallel of linalg's parallel iterators inside a sequential
// reduction loop becomes sequential again (a parallel region per element
// would cost more than the work); the outer loop is not marked.

// CHECK-LABEL: func @inner_parallel
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// OMP-LABEL: func @inner_parallel
// OMP-NOT: omp.
func.func @inner_parallel(%in: memref<64x4096xf32>, %out: memref<4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c4096 = arith.constant 4096 : index
  scf.for %n = %c0 to %c64 step %c1 {
    scf.parallel (%c) = (%c0) to (%c4096) step (%c1) {
      %x = memref.load %in[%n, %c] : memref<64x4096xf32>
      %acc = memref.load %out[%c] : memref<4096xf32>
      %s = arith.addf %x, %acc : f32
      memref.store %s, %out[%c] : memref<4096xf32>
      scf.reduce
    }
  }
  return
}

// -----

// Top-level parallel loops stay parallel, nested ones become scf.for, and
// a nest with too little work (here 4 x 8 elements) stays sequential. Of
// several dimensions, only the leading ones needed for 64 iterations are
// shared (OpenMP would collapse them and the vectorizer give up on the
// innermost).

// CHECK-LABEL: func @nests
// CHECK: scf.parallel (%{{[^,]*}}) = (%c0) to (%c64)
// CHECK: scf.for {{.*}} to %c256
// CHECK: scf.for {{.*}} to %c4
// CHECK: scf.reduce
// CHECK: scf.for {{.*}} to %c4
// CHECK: scf.for {{.*}} to %c8
// CHECK-NOT: scf.parallel
// CHECK: return
// OMP-LABEL: func @nests
// OMP: omp.loop_nest (%{{[^,]*}}) : index = (%c0) to (%c64)
func.func @nests(%a: memref<64x256x4xf32>, %b: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c256) step (%c1, %c1) {
    scf.parallel (%k) = (%c0) to (%c4) step (%c1) {
      memref.store %zero, %a[%i, %j, %k] : memref<64x256x4xf32>
      scf.reduce
    }
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c8) step (%c1, %c1) {
    memref.store %zero, %b[%i, %j] : memref<4x8xf32>
    scf.reduce
  }
  return
}

// CHECK-LABEL: func @wide
// CHECK: scf.parallel (%{{.*}}, %{{.*}}) = (%c0, %c0) to (%c8, %c16)
// CHECK: scf.for {{.*}} to %c512
// OMP-LABEL: func @wide
// OMP: omp.loop_nest {{.*}} collapse(2)
func.func @wide(%a: memref<8x16x512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c512 = arith.constant 512 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c8, %c16, %c512) step (%c1, %c1, %c1) {
    memref.store %zero, %a[%i, %j, %k] : memref<8x16x512xf32>
    scf.reduce
  }
  return
}

// -----

// Tile loops inside a few sequential blocks (a blocked reduction) stay
// parallel: one region per block.

// CHECK-LABEL: func @tiles_in_blocks
// CHECK: scf.for %{{.*}} = %c0 to %c2048 step %c512
// CHECK-NEXT: scf.parallel
func.func @tiles_in_blocks(%out: memref<64x128xf32>, %v: vector<16xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %c512 = arith.constant 512 : index
  %c2048 = arith.constant 2048 : index
  scf.for %k = %c0 to %c2048 step %c512 {
    scf.for %i = %c0 to %c64 step %c4 {
      scf.for %j = %c0 to %c128 step %c16 {
        %old = vector.load %out[%i, %j] : memref<64x128xf32>, vector<16xf32>
        %new = arith.addf %old, %v : vector<16xf32>
        vector.store %new, %out[%i, %j] : memref<64x128xf32>, vector<16xf32>
      }
    } {dlc.parallel}
  }
  return
}

// -----

// Beyond max-regions-per-nest (256) blocks, a tile loop stays parallel only
// when each block is at least min-region-work (131072) element operations:
// 512 blocks of 16 x 8 x 64 x 16 lanes = 131072 (a filter gradient's rows
// x batch blocks) keep one region per block; 512 blocks of an eighth of
// that run sequentially; min-region-work=0 restores the count limit alone.

// CHECK-LABEL: func @many_large_blocks
// CHECK: scf.for %{{.*}} = %c0 to %c512 step %c1
// CHECK-NEXT: scf.parallel
// NOREGION-LABEL: func @many_large_blocks
// NOREGION-NOT: scf.parallel
// NOREGION: return
func.func @many_large_blocks(%out: memref<16x8x1024xf32>, %v: vector<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  scf.for %k = %c0 to %c512 step %c1 {
    scf.for %i = %c0 to %c16 step %c1 {
      scf.for %j = %c0 to %c8 step %c1 {
        scf.for %l = %c0 to %c1024 step %c16 {
          %old = vector.load %out[%i, %j, %l] : memref<16x8x1024xf32>, vector<16xf32>
          %new = arith.addf %old, %v : vector<16xf32>
          vector.store %new, %out[%i, %j, %l] : memref<16x8x1024xf32>, vector<16xf32>
        }
      }
    } {dlc.parallel}
  }
  return
}

// CHECK-LABEL: func @many_small_blocks
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @many_small_blocks(%out: memref<16x1x1024xf32>, %v: vector<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c512 = arith.constant 512 : index
  %c1024 = arith.constant 1024 : index
  scf.for %k = %c0 to %c512 step %c1 {
    scf.for %i = %c0 to %c16 step %c1 {
      scf.for %l = %c0 to %c1024 step %c16 {
        %old = vector.load %out[%i, %c0, %l] : memref<16x1x1024xf32>, vector<16xf32>
        %new = arith.addf %old, %v : vector<16xf32>
        vector.store %new, %out[%i, %c0, %l] : memref<16x1x1024xf32>, vector<16xf32>
      }
    } {dlc.parallel}
  }
  return
}

// -----

// A marked loop that still carries values is not independent: it stays.

// CHECK-LABEL: func @carried
// CHECK: scf.for {{.*}} iter_args
// CHECK-NOT: scf.parallel
func.func @carried(%v: vector<16xf32>) -> vector<16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4096 = arith.constant 4096 : index
  %r = scf.for %i = %c0 to %c4096 step %c1 iter_args(%acc = %v) -> vector<16xf32> {
    %s = arith.addf %acc, %v : vector<16xf32>
    scf.yield %s : vector<16xf32>
  } {dlc.parallel}
  return %r : vector<16xf32>
}

// -----

// A reduction across the iterations of a parallel loop would depend on the
// thread count: refused.

func.func @reduce(%a: memref<4096xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4096 = arith.constant 4096 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{reduces across its iterations}}
  %r = scf.parallel (%i) = (%c0) to (%c4096) step (%c1) init (%zero) -> f32 {
    %x = memref.load %a[%i] : memref<4096xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %s = arith.addf %l, %r : f32
      scf.reduce.return %s : f32
    }
  }
  return %r : f32
}
