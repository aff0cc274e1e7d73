// RUN: dlc-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(dlc-cuda-form-kernels))' | FileCheck %s
// RUN: dlc-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(dlc-cuda-form-kernels{tensor-cores=false}))' | FileCheck %s --check-prefix=SIMT

// The tensor-core kernels of dlc-cuda-form-kernels (lib/Target/CUDA/
// TensorCores.cpp; docs/CUDA.md, "Tensor cores"). A dense layer's 64x96 by
// 96x40 matmul: M = 64, N = 40 (not a multiple of the 64-wide block tile,
// so the stores are predicated), K = 96 in steps of 16. One block of four
// warps (128 threads); the A and B tiles staged in shared memory, padded
// by 4 floats per row (64x20, 16x72) against bank conflicts; each warp
// keeps 2 x 4 m16n8k8 accumulators (vector<2x2xf32> per thread) and runs
// 8 tf32 mma.sync per 8 of K, 16 per step of 16.
// CHECK-LABEL: func.func @dense
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK-SAME: function(@dense_matmul_mma)
// CHECK-SAME: workgroup(%[[SA:.*]] : memref<64x20xf32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<16x72xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c96 step %c16 iter_args({{.*}}) -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>)
// Each thread stages 8 elements of each tile, as a loop (LLVM unrolls it).
// CHECK: scf.for %{{.*}} = %c0 to %c8{{.*}} step %c1
// CHECK: memref.store %{{.*}}, %[[SA]]
// CHECK: scf.for %{{.*}} = %c0 to %c8{{.*}} step %c1
// CHECK: memref.store %{{.*}}, %[[SB]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[SA]]
// CHECK: memref.load %[[SB]]
// CHECK-COUNT-16: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 8], tf32Enabled} : (vector<4x1xf32>, vector<2x1xf32>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: arith.cmpi ult, %{{.*}}, %c64
// CHECK: arith.cmpi ult, %{{.*}}, %c40
// CHECK: scf.if
// CHECK: memref.store %{{.*}}, %arg2[{{.*}}] : memref<64x40xf32>
// SIMT-LABEL: func.func @dense
// SIMT-NOT: nvgpu.mma.sync
// SIMT-NOT: workgroup(
// SIMT: return
func.func @dense(%a: memref<64x96xf32>, %b: memref<96x40xf32>, %c: memref<64x40xf32>) {
  linalg.matmul ins(%a, %b : memref<64x96xf32>, memref<96x40xf32>) outs(%c : memref<64x40xf32>)
  return
}

// -----

// cnn_bn's second filter gradient at batch 8, as dlc writes it (the input
// transposed so that its channels are the convolution's batch, the output
// gradient as the filter): M = 32 x 3 x 3 = 288, N = 64, K = 24 x 24 x 8.
// Its 5 x 1 block tiles would leave most of the GPU idle, so K is split
// into 18 chunks (grid z): partials of the whole output, then a combine
// kernel that adds them to the output in chunk order (no atomics: the
// same bits on every run).
// CHECK-LABEL: func.func @filter_gradient
// CHECK: %[[P:.*]] = memref.alloc() : memref<18x32x3x3x64xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c5, %{{.*}} = %c1{{.*}}, %{{.*}} = %c18) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK-SAME: function(@filter_gradient_conv_2d_nhwc_hwcf_mma_partials)
// CHECK-COUNT-16: nvgpu.mma.sync
// CHECK: gpu.launch {{.*}} function(@filter_gradient_generic_mma_combine)
// CHECK: %[[ACC:.*]] = memref.load %arg2[{{.*}}] : memref<32x3x3x64xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c18{{.*}} step
// CHECK: memref.load %[[P]]
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %arg2[{{.*}}] : memref<32x3x3x64xf32>
// CHECK: memref.dealloc %[[P]]
// SIMT-LABEL: func.func @filter_gradient
// SIMT-NOT: nvgpu.mma.sync
// SIMT: return
func.func @filter_gradient(%x: memref<32x26x26x8xf32>, %dy: memref<24x24x8x64xf32>, %dw: memref<32x3x3x64xf32>) {
  linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %dy : memref<32x26x26x8xf32>, memref<24x24x8x64xf32>) outs(%dw : memref<32x3x3x64xf32>)
  return
}

// -----

// Too small for an m16n8k8 tile (M = 1 x 3 x 3 = 9 < 16): the SIMT kernel.
// CHECK-LABEL: func.func @small_filter_gradient
// CHECK-NOT: nvgpu.mma.sync
// CHECK: return
func.func @small_filter_gradient(%x: memref<1x28x28x64xf32>, %dy: memref<26x26x64x32xf32>, %dw: memref<1x3x3x32xf32>) {
  linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %dy : memref<1x28x28x64xf32>, memref<26x26x64x32xf32>) outs(%dw : memref<1x3x3x32xf32>)
  return
}

// -----

// Conv + batch-norm statistics: the per-channel sum and sum of squares of
// the conv output (f64, the `dlc.epilogue` reduction that follows it) are
// reduced in the conv kernel's epilogue. Bufferization's zero-filled
// buffer copied into the conv's output becomes a fill of the output, fused
// into the conv (no fill or copy kernel), and the two sums' filled copies
// become fills fused into the combine. The kernel gets a third shared
// buffer (2 sums x 16 row groups x 64 columns, f64), writes one partial
// per block row and channel after a barrier, and a combine kernel adds the
// 7 tiles' partials in order: no kernel reads the conv output again.
// CHECK-LABEL: func.func @conv_statistics
// CHECK-NOT: gpu.launch {{.*}}function(@conv_statistics_fill
// CHECK-NOT: function(@conv_statistics_copy
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c7{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c128,
// CHECK-SAME: function(@conv_statistics_conv_2d_nhwc_hwcf_mma)
// CHECK-SAME: workgroup({{.*}} : memref<64x20xf32, #gpu.address_space<workgroup>>, {{.*}} : memref<16x72xf32, #gpu.address_space<workgroup>>, %[[ST:.*]] : memref<2x16x64xf64, #gpu.address_space<workgroup>>)
// CHECK-COUNT-32: arith.mulf {{.*}} : f64
// CHECK: memref.store %{{.*}}, %[[ST]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c16{{.*}} iter_args({{.*}}) -> (f64)
// CHECK: memref.load %[[ST]]
// CHECK: memref.store %{{.*}}, %[[P0:.*]][%{{.*}}, %{{.*}}] : memref<7x16xf64>
// CHECK: memref.store %{{.*}}, %[[P1:.*]][%{{.*}}, %{{.*}}] : memref<7x16xf64>
// CHECK: gpu.launch
// CHECK-SAME: function(@conv_statistics_generic_statistics_combine)
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @conv_statistics(%x: memref<4x12x12x3xf32>, %w: memref<3x3x3x16xf32>, %sum: memref<16xf64>, %squares: memref<16xf64>) {
  %zero = arith.constant 0.0 : f32
  %zero64 = arith.constant 0.0 : f64
  %filled = memref.alloc() : memref<4x10x10x16xf32>
  linalg.fill ins(%zero : f32) outs(%filled : memref<4x10x10x16xf32>)
  %y = memref.alloc() : memref<4x10x10x16xf32>
  memref.copy %filled, %y : memref<4x10x10x16xf32> to memref<4x10x10x16xf32>
  memref.dealloc %filled : memref<4x10x10x16xf32>
  linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
    ins(%x, %w : memref<4x12x12x3xf32>, memref<3x3x3x16xf32>) outs(%y : memref<4x10x10x16xf32>)
  %init = memref.alloc() : memref<16xf64>
  linalg.fill ins(%zero64 : f64) outs(%init : memref<16xf64>)
  memref.copy %init, %sum : memref<16xf64> to memref<16xf64>
  memref.copy %init, %squares : memref<16xf64> to memref<16xf64>
  memref.dealloc %init : memref<16xf64>
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d3)>, affine_map<(d0, d1, d2, d3) -> (d3)>],
                  iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
      ins(%y : memref<4x10x10x16xf32>) outs(%sum, %squares : memref<16xf64>, memref<16xf64>) attrs = {dlc.epilogue} {
  ^bb0(%in: f32, %s: f64, %q: f64):
    %e = arith.extf %in : f32 to f64
    %s1 = arith.addf %s, %e : f64
    %sq = arith.mulf %e, %e : f64
    %q1 = arith.addf %q, %sq : f64
    linalg.yield %s1, %q1 : f64, f64
  }
  memref.dealloc %y : memref<4x10x10x16xf32>
  return
}
