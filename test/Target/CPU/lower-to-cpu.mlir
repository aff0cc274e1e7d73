// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg -dlc-lower-to-cpu="cpu=x86-64-v3" | FileCheck %s
// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg -dlc-lower-to-cpu="cpu=x86-64-v3" -mlir-print-ir-after=buffer-results-to-out-params 2>&1 >/dev/null | FileCheck %s --check-prefix=BUF

// The calling convention: results are buffers the caller passes after the
// arguments, and the C entry point takes one descriptor pointer each. The
// concatenation writes straight into the result, relu runs in place there,
// and the loss goes to its 0-D out-parameter: no allocation, and no call
// into MLIR's runtime library (memrefCopy) for the strided copies.

// BUF-LABEL: func.func @relu_concat
// BUF-SAME: (%[[A:.*]]: memref<2x3xf32>, %[[B:.*]]: memref<2x5xf32>, %[[OUT:.*]]: memref<2x8xf32>, %[[LOSS:.*]]: memref<f32>)
// BUF-SAME: attributes {llvm.emit_c_interface}
// BUF-NOT: memref.alloc
// BUF: %[[LEFT:.*]] = memref.subview %[[OUT]][0, 0] [2, 3] [1, 1]
// BUF: memref.copy %[[A]], %[[LEFT]]
// BUF: %[[RIGHT:.*]] = memref.subview %[[OUT]][0, 3] [2, 5] [1, 1]
// BUF: memref.copy %[[B]], %[[RIGHT]]
// BUF: linalg.generic {{.*}} ins(%[[OUT]] : memref<2x8xf32>) outs(%[[OUT]] : memref<2x8xf32>)
// BUF: outs(%[[LOSS]] : memref<f32>)
// BUF: return{{$}}

// CHECK-LABEL: llvm.func @relu_concat
// CHECK-NOT: llvm.call @malloc
// CHECK-NOT: memrefCopy
// CHECK-LABEL: llvm.func @_mlir_ciface_relu_concat
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK: llvm.call @relu_concat
func.func @relu_concat(%a: tensor<2x3xf32>, %b: tensor<2x5xf32>) -> (tensor<2x8xf32>, tensor<f32>) {
  %c = dlc.concat %a, %b : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
  %r = dlc.relu %c : tensor<2x8xf32>
  %l = dlc.mse %r, %r : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<f32>
  return %r, %l : tensor<2x8xf32>, tensor<f32>
}

// -----

// The convolution's accumulators stay in registers across the reduction:
// the inner loops are FMAs (llvm.intr.fmuladd) of a broadcast input by a
// vector<32xf32> filter row (four AVX2 registers), with only the input and
// filter loads inside; the output is read and written once per tile.

// BUF-LABEL: func.func @conv
// BUF-SAME: %[[Y:[a-z0-9]*]]: memref<2x8x8x64xf32>) attributes {llvm.emit_c_interface}

// CHECK-LABEL: llvm.func @conv
// CHECK: llvm.intr.fmuladd{{.*}} : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// CHECK-LABEL: llvm.func @_mlir_ciface_conv
// CHECK-SAME: (%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
func.func @conv(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x64xf32>, %b: tensor<64xf32>) -> tensor<2x8x8x64xf32> {
  %y = dlc.conv2d %x, %w, %b : (tensor<2x10x10x16xf32>, tensor<3x3x16x64xf32>, tensor<64xf32>) -> tensor<2x8x8x64xf32>
  return %y : tensor<2x8x8x64xf32>
}
