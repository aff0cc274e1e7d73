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
// CHECK: memref.store %{{.*}}, %[[SA]]
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
