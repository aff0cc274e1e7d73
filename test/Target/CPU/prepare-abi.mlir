// RUN: dlc-opt %s -dlc-cpu-prepare-abi | FileCheck %s

// Public functions get a C entry point; tensor arguments become read-only
// unless the caller donated them (bufferization.writable = true), and
// scalars are left alone.

// CHECK-LABEL: func @step
// CHECK-SAME: %{{.*}}: tensor<4xf32> {bufferization.writable = false}
// CHECK-SAME: %{{.*}}: tensor<4xf32> {bufferization.writable = true}
// CHECK-SAME: %{{.*}}: i64)
// CHECK-SAME: attributes {llvm.emit_c_interface}
func.func @step(%x: tensor<4xf32>, %p: tensor<4xf32> {bufferization.writable = true}, %k: i64) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// Private helpers keep MLIR's internal convention.

// CHECK-LABEL: func private @helper
// CHECK-NOT: emit_c_interface
// CHECK-NOT: writable
func.func private @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// An argument tied to a result is donated, and the result's producer
// writes into it instead of a fresh tensor.

// CHECK-LABEL: func @tied
// CHECK-SAME: (%[[P:.*]]: tensor<8xf32> {bufferization.writable = true, dlc.result = 0 : i64}
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[P]] : tensor<8xf32>)
func.func @tied(%p: tensor<8xf32> {dlc.result = 0 : i64}, %g: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%p, %g : tensor<8xf32>, tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %y : tensor<8xf32>
}
