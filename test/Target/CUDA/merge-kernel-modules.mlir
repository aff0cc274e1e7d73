// RUN: dlc-opt %s --dlc-cuda-merge-kernel-modules | FileCheck %s
// RUN: dlc-opt %s --dlc-cuda-merge-kernel-modules=modules=2 | FileCheck %s --check-prefix=TWO
// RUN: not dlc-opt %s --dlc-cuda-merge-kernel-modules=modules=0 2>&1 | FileCheck %s --check-prefix=ZERO

// The outlined kernels move into one gpu.module @dlc_kernels. A kernel
// identical to one already moved (here @b_scale, the same body as @a_scale
// under another name and in another module) is dropped and its launch goes
// to the first, now launched by two functions and so renamed
// @shared_scale (no function's prefix: a profile names kernels by it); a
// kernel that differs in one constant (@c_scale) or in its attributes
// (@d_scale, another known block size) is kept.

// CHECK-LABEL: func.func @a
// CHECK: gpu.launch_func @dlc_kernels::@shared_scale
// CHECK-LABEL: func.func @b
// CHECK: gpu.launch_func @dlc_kernels::@shared_scale
// CHECK-LABEL: func.func @c
// CHECK: gpu.launch_func @dlc_kernels::@c_scale
// CHECK-LABEL: func.func @d
// CHECK: gpu.launch_func @dlc_kernels::@d_scale
// CHECK: gpu.module @dlc_kernels
// CHECK-DAG: gpu.func @shared_scale
// CHECK-DAG: gpu.func @c_scale
// CHECK-DAG: gpu.func @d_scale
// CHECK-NOT: gpu.func @b_scale
// CHECK-NOT: gpu.func @a_scale
// CHECK-NOT: gpu.module @a_scale

// modules=2: the three distinct kernels spread over two modules, largest
// first into the lighter one (equal sizes keep their order: @shared_scale,
// @c_scale, then @d_scale into the first of two equal loads); every launch
// follows its kernel.
// TWO-LABEL: func.func @a
// TWO: gpu.launch_func @dlc_kernels_0::@shared_scale
// TWO-LABEL: func.func @b
// TWO: gpu.launch_func @dlc_kernels_0::@shared_scale
// TWO-LABEL: func.func @c
// TWO: gpu.launch_func @dlc_kernels_1::@c_scale
// TWO-LABEL: func.func @d
// TWO: gpu.launch_func @dlc_kernels_0::@d_scale
// TWO: gpu.module @dlc_kernels_0 {
// TWO-NEXT: gpu.func @shared_scale
// TWO: gpu.func @d_scale
// TWO: gpu.module @dlc_kernels_1 {
// TWO-NEXT: gpu.func @c_scale
// TWO-NOT: gpu.module
// ZERO: modules must be >= 1, got 0

module attributes {gpu.container_module} {
  func.func @a(%m: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @a_scale::@a_scale blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%m : memref<64xf32>)
    return
  }
  func.func @b(%m: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @b_scale::@b_scale blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%m : memref<64xf32>)
    return
  }
  func.func @c(%m: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @c_scale::@c_scale blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%m : memref<64xf32>)
    return
  }
  func.func @d(%m: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @d_scale::@d_scale blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%m : memref<64xf32>)
    return
  }
  gpu.module @a_scale {
    gpu.func @a_scale(%m: memref<64xf32>) kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %v = memref.load %m[%t] : memref<64xf32>
      %two = arith.constant 2.0 : f32
      %w = arith.mulf %v, %two : f32
      memref.store %w, %m[%t] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @b_scale {
    gpu.func @b_scale(%m: memref<64xf32>) kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %v = memref.load %m[%t] : memref<64xf32>
      %two = arith.constant 2.0 : f32
      %w = arith.mulf %v, %two : f32
      memref.store %w, %m[%t] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @c_scale {
    gpu.func @c_scale(%m: memref<64xf32>) kernel attributes {known_block_size = array<i32: 64, 1, 1>} {
      %t = gpu.thread_id x
      %v = memref.load %m[%t] : memref<64xf32>
      %three = arith.constant 3.0 : f32
      %w = arith.mulf %v, %three : f32
      memref.store %w, %m[%t] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @d_scale {
    gpu.func @d_scale(%m: memref<64xf32>) kernel attributes {known_block_size = array<i32: 32, 1, 1>} {
      %t = gpu.thread_id x
      %v = memref.load %m[%t] : memref<64xf32>
      %two = arith.constant 2.0 : f32
      %w = arith.mulf %v, %two : f32
      memref.store %w, %m[%t] : memref<64xf32>
      gpu.return
    }
  }
}
