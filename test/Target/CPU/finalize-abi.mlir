// RUN: dlc-opt %s -split-input-file -dlc-cpu-finalize-abi -verify-diagnostics | FileCheck %s

// A tied result computed in its argument's buffer just leaves the signature.

// CHECK-LABEL: func @in_place
// CHECK-SAME: (%[[P:.*]]: memref<8xf32> {dlc.result = 0 : i64}, %{{.*}}: memref<8xf32>) -> memref<f32>
// CHECK-NOT: memref.copy
// CHECK: return %{{.*}} : memref<f32>
func.func @in_place(%p: memref<8xf32> {dlc.result = 0 : i64}, %g: memref<8xf32>) -> (memref<8xf32>, memref<f32>) {
  %l = memref.alloc() : memref<f32>
  return %p, %l : memref<8xf32>, memref<f32>
}

// -----

// Otherwise it is copied into the argument before returning.

// CHECK-LABEL: func @copied
// CHECK-SAME: (%[[P:.*]]: memref<8xf32> {dlc.result = 0 : i64}) {
// CHECK: %[[T:.*]] = memref.alloc
// CHECK: memref.copy %[[T]], %[[P]]
// CHECK: return{{$}}
func.func @copied(%p: memref<8xf32> {dlc.result = 0 : i64}) -> memref<8xf32> {
  %t = memref.alloc() : memref<8xf32>
  return %t : memref<8xf32>
}

// -----

// expected-error @+1 {{'func.func' op argument #0 and result #0 tied by dlc.result have different types}}
func.func @mismatch(%p: memref<8xf32> {dlc.result = 0 : i64}) -> memref<4xf32> {
  %t = memref.alloc() : memref<4xf32>
  return %t : memref<4xf32>
}

// -----

// expected-error @+1 {{'func.func' op argument #0 has dlc.result that is not the index of a result}}
func.func @out_of_range(%p: memref<8xf32> {dlc.result = 3 : i64}) -> memref<8xf32> {
  return %p : memref<8xf32>
}
