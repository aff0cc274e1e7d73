// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg -verify-diagnostics

// A reshape from a 0-D tensor has no collapse/expand form: the pattern
// declines and the conversion reports the op it could not legalize.

func.func @reshape_scalar(%x: tensor<f32>) -> tensor<1xf32> {
  // expected-error @+1 {{failed to legalize operation 'dlc.reshape'}}
  %y = dlc.reshape %x {shape = array<i64: 1>} : (tensor<f32>) -> tensor<1xf32>
  return %y : tensor<1xf32>
}
