// RUN: dlc-opt %s --split-input-file --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(dlc-cuda-form-kernels{block-size=128}))' | FileCheck %s

// An elementwise op: one thread per element, 1000 elements over
// ceil(1000 / 128) = 8 blocks of 128 threads, guarded.
// CHECK-LABEL: func.func @relu
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C8]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C128]],
// CHECK: %[[MUL:.*]] = arith.muli %[[BX]], %{{.*}} : index
// CHECK: %[[ID:.*]] = arith.addi %[[MUL]], %[[TX]] : index
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[ID]], %{{.*}} : index
// CHECK: scf.if %[[OK]] {
// CHECK:   %[[I:.*]] = affine.apply #{{.*}}(%[[ID]])
// CHECK:   memref.load %{{.*}}[%[[I]]]
// CHECK:   arith.maximumf
// CHECK:   memref.store
// CHECK-NOT: linalg.
// CHECK: return
func.func @relu(%x: memref<1000xf32>, %y: memref<1000xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%x : memref<1000xf32>) outs(%y : memref<1000xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A channel sum over N, H, W written with the reduction dimensions first
// (as batch-norm statistics are): interchanged so that the 8 channels are
// the threads, each summing its channel in order (no atomics).
// The thread's accumulator is a private scalar (a register after LLVM's
// mem2reg), read once before the loops and written once after them.
// CHECK-LABEL: func.func @channel_sum
// CHECK: gpu.launch
// CHECK-SAME: threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c8
// CHECK: scf.if
// CHECK: %[[C:.*]] = affine.apply #{{.*}}(%{{.*}})
// CHECK: %[[ACC:.*]] = memref.alloca() : memref<f32>
// CHECK: %[[INIT:.*]] = memref.load %{{.*}}[%[[C]]] : memref<8xf32>
// CHECK: memref.store %[[INIT]], %[[ACC]][]
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %[[C]]] : memref<4x5x6x8xf32>
// CHECK: memref.load %[[ACC]][]
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[ACC]][]
// CHECK: }
// CHECK: }
// CHECK: }
// CHECK: %[[SUM:.*]] = memref.load %[[ACC]][]
// CHECK: memref.store %[[SUM]], %{{.*}}[%[[C]]] : memref<8xf32>
// CHECK-NOT: memref.atomic_rmw
func.func @channel_sum(%x: memref<4x5x6x8xf32>, %s: memref<8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                   affine_map<(d0, d1, d2, d3) -> (d3)>],
                  iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
      ins(%x : memref<4x5x6x8xf32>) outs(%s : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A reduction to a scalar runs in one thread. The scalar the kernel needs
// from a rank-0 argument (as dlc-cuda-device-scalars leaves the learning
// rate) and the arithmetic on it are cloned into the kernel: the host only
// launches.
// CHECK-LABEL: func.func @scaled_sum
// CHECK-NOT: memref.load
// CHECK: gpu.launch blocks(%{{.*}}) in (%{{.*}} = %c1{{.*}}) threads(%{{.*}}) in (%{{.*}} = %c1
// CHECK: %[[LR:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK: %[[HALF:.*]] = arith.mulf %[[LR]]
// CHECK: scf.for
// CHECK: arith.mulf %{{.*}}, %[[HALF]]
// CHECK: gpu.terminator
// CHECK-NOT: memref.load
// CHECK: return
func.func @scaled_sum(%x: memref<16xf32>, %lr: memref<f32>, %out: memref<f32>) {
  %c = arith.constant 0.5 : f32
  %v = memref.load %lr[] : memref<f32>
  %half = arith.mulf %v, %c : f32
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%x : memref<16xf32>) outs(%out : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %m = arith.mulf %in, %half : f32
    %r = arith.addf %m, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Copies become kernels too.
// CHECK-LABEL: func.func @copy
// CHECK: gpu.launch
// CHECK-NOT: memref.copy
func.func @copy(%x: memref<4x4xf32>, %y: memref<4x4xf32>) {
  memref.copy %x, %y : memref<4x4xf32> to memref<4x4xf32>
  return
}

// -----

// The host must not touch device memory.
func.func @host_store(%y: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %v = arith.constant 1.0 : f32
  // expected-error @below {{reads or writes device memory on the host}}
  memref.store %v, %y[%c0] : memref<4xf32>
  return
}

// -----

// A copy out of a buffer holding only a fill's value is a fill of its
// target (no copy kernel); the filled buffer's next user, an op that
// accumulates into it much later, then gets the fill fused into its own
// threads. A copy whose source was written after the fill stays a copy
// (here run by the threads of the kernel before it, as its epilogue).
// CHECK-LABEL: func.func @copy_of_filled(%arg0: memref<256xf32>, %arg1: memref<256xf32>, %arg2: memref<256xf32>)
// CHECK-NOT: memref.copy
// CHECK: gpu.launch {{.*}}function(@copy_of_filled_generic)
// CHECK: memref.store %cst, %[[A:.*]][%{{.*}}] : memref<256xf32>
// CHECK: gpu.launch {{.*}}function(@copy_of_filled_generic)
// CHECK: memref.store %cst, %[[FILLED:.*]][%{{.*}}] : memref<256xf32>
// CHECK: memref.load %[[A]]
// CHECK: gpu.launch {{.*}}function(@copy_of_filled_generic)
// CHECK: memref.store %cst, %[[B:.*]][%{{.*}}] : memref<256xf32>
// CHECK: memref.load %[[B]]
// CHECK: memref.store %{{.*}}, %arg2
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @copy_of_filled(%x: memref<256xf32>, %y: memref<256xf32>, %z: memref<256xf32>) {
  %zero = arith.constant 0.0 : f32
  %filled = memref.alloc() : memref<256xf32>
  linalg.fill ins(%zero : f32) outs(%filled : memref<256xf32>)
  %a = memref.alloc() : memref<256xf32>
  memref.copy %filled, %a : memref<256xf32> to memref<256xf32>
  // a += x
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : memref<256xf32>) outs(%a : memref<256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  // filled += a, much later: its fill moves here.
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%a : memref<256xf32>) outs(%filled : memref<256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  // Written after the fill: a real copy.
  %b = memref.alloc() : memref<256xf32>
  linalg.fill ins(%zero : f32) outs(%b : memref<256xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%y : memref<256xf32>) outs(%b : memref<256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  memref.copy %b, %z : memref<256xf32> to memref<256xf32>
  memref.dealloc %filled : memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  return
}
