// RUN: dlc-opt %s -split-input-file -dlc-insert-gradient-all-reduce -verify-diagnostics
// RUN: not dlc-opt %s -split-input-file -dlc-insert-gradient-all-reduce="bucket-bytes=0" 2>&1 | FileCheck %s

// The pass works on @train_step (dlc-build-train-step's).
// expected-error @+1 {{no function @train_step to insert the gradient all-reduce into}}
module {
  func.func @forward(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// -----

// A step without updates has nothing to reduce and is left alone.
module {
  func.func @train_step(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
}

// CHECK: bucket-bytes must be positive, got 0
