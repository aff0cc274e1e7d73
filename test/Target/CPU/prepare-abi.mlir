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
