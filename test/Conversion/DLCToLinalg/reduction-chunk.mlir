// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg -canonicalize -cse | FileCheck %s

// A function marked dlc.reduction_chunk = C (dlc compile --reduction-chunk)
// reduces over the batch one chunk of C samples at a time, each chunk with
// the shapes of a C-sample batch, and adds the partials pairwise: halves
// of an even count ((c0 + c1) + (c2 + c3)), an odd count left to right.

// The filter gradient: one transposed convolution per chunk of 2 of the 8
// samples, then (c0 + c1) + (c2 + c3), then the transpose to HWCF.
// CHECK-LABEL: func.func @filter
// CHECK: tensor.extract_slice %arg0[0, 0, 0, 0] [2, 9, 9, 3] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %arg1[0, 0, 0, 0] [2, 7, 7, 6] [1, 1, 1, 1]
// CHECK: %[[C0:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%{{.*}}, %{{.*}} : tensor<3x9x9x2xf32>, tensor<7x7x2x6xf32>)
// CHECK: tensor.extract_slice %arg0[2, 0, 0, 0] [2, 9, 9, 3]
// CHECK: %[[C1:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK: tensor.extract_slice %arg0[4, 0, 0, 0] [2, 9, 9, 3]
// CHECK: %[[C2:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK: tensor.extract_slice %arg0[6, 0, 0, 0] [2, 9, 9, 3]
// CHECK: %[[C3:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK-NOT: linalg.conv_2d_nhwc_hwcf
// CHECK: %[[S01:.*]] = linalg.generic {{.*}} ins(%[[C0]], %[[C1]] :
// CHECK: arith.addf
// CHECK: %[[S23:.*]] = linalg.generic {{.*}} ins(%[[C2]], %[[C3]] :
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[S01]], %[[S23]] :
// CHECK: linalg.transpose ins(%[[S]] : tensor<3x3x3x6xf32>) {{.*}} permutation = [1, 2, 0, 3]
func.func @filter(%x: tensor<8x9x9x3xf32>, %dy: tensor<8x7x7x6xf32>) -> tensor<3x3x3x6xf32>
    attributes {dlc.reduction_chunk = 2 : i64} {
  %dw = dlc.conv2d_grad_filter %x, %dy {kernel_size = array<i64: 3, 3>}
      : (tensor<8x9x9x3xf32>, tensor<8x7x7x6xf32>) -> tensor<3x3x3x6xf32>
  return %dw : tensor<3x3x3x6xf32>
}

// -----

// The dense weight gradient (lhs^T x rhs, a reduction over the rows):
// three chunks, added left to right.
// CHECK-LABEL: func.func @dense
// CHECK: %[[M0:.*]] = linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x2xf32>, tensor<2x2xf32>)
// CHECK: %[[M1:.*]] = linalg.matmul
// CHECK: %[[M2:.*]] = linalg.matmul
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[M0]], %[[M1]] :
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[M2]] :
// CHECK: return %[[T]]
func.func @dense(%a: tensor<6x4xf32>, %b: tensor<6x2xf32>) -> tensor<4x2xf32>
    attributes {dlc.reduction_chunk = 2 : i64} {
  %0 = dlc.matmul %a, %b {transpose_lhs} : (tensor<6x4xf32>, tensor<6x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// A bias gradient of 5 samples in chunks of 2: the last chunk is 1 sample.
// CHECK-LABEL: func.func @bias
// CHECK: %[[B0:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%{{.*}} : tensor<2x3x3x16xf32>)
// CHECK: %[[B1:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3x3x16xf32>)
// CHECK: tensor.extract_slice %arg0[4, 0, 0, 0] [1, 3, 3, 16]
// CHECK: %[[B2:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x3x3x16xf32>)
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[B0]], %[[B1]] :
// CHECK: linalg.generic {{.*}} ins(%[[S]], %[[B2]] :
func.func @bias(%dy: tensor<5x3x3x16xf32>) -> tensor<16xf32>
    attributes {dlc.reduction_chunk = 2 : i64} {
  %0 = dlc.channel_sum %dy : (tensor<5x3x3x16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// Training batch norm: the f64 sums per chunk, added, then the statistics.
// CHECK-LABEL: func.func @batch_norm_train
// CHECK: %[[P0:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x5x5x4xf32>)
// CHECK: %[[P1:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x5x5x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[P0]]#0, %[[P1]]#0 : tensor<4xf64>, tensor<4xf64>)
// CHECK: linalg.generic {{.*}} ins(%[[P0]]#1, %[[P1]]#1 : tensor<4xf64>, tensor<4xf64>)
func.func @batch_norm_train(%x: tensor<4x5x5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>,
                            %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<4x5x5x4xf32>
    attributes {dlc.reduction_chunk = 2 : i64} {
  %y:5 = dlc.batch_norm_train %x, %g, %b, %m, %v
      : (tensor<4x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<4x5x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y#0 : tensor<4x5x5x4xf32>
}

// -----

// The fused conv + statistics: no dlc.epilogue (a chunk sums in the order
// of a chunk-sized batch, not the convolution's tiles).
// CHECK-LABEL: func.func @conv_stats
// CHECK-NOT: dlc.epilogue
// CHECK: return
func.func @conv_stats(%x: tensor<4x6x6x3xf32>, %w: tensor<3x3x3x8xf32>)
    -> (tensor<4x4x4x8xf32>, tensor<8xf64>, tensor<8xf64>)
    attributes {dlc.reduction_chunk = 2 : i64} {
  %y:3 = dlc.conv2d_bn_stats %x, %w {kernel_size = array<i64: 3, 3>}
      : (tensor<4x6x6x3xf32>, tensor<3x3x3x8xf32>) -> (tensor<4x4x4x8xf32>, tensor<8xf64>, tensor<8xf64>)
  return %y#0, %y#1, %y#2 : tensor<4x4x4x8xf32>, tensor<8xf64>, tensor<8xf64>
}

// -----

// The batch-norm gradient: the f64 sums per chunk; gamma_grad and
// beta_grad are f32 per chunk (the values a rank's all-reduce would add),
// then added.
// CHECK-LABEL: func.func @batch_norm_grad
// CHECK: %[[Q0:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x3x4xf32>, tensor<2x3x3x4xf32>, tensor<4xf32>)
// CHECK: %[[Q1:.*]]:2 = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x3x4xf32>, tensor<2x3x3x4xf32>, tensor<4xf32>)
// CHECK: %[[G0:.*]]:2 = linalg.generic {{.*}} ins(%arg4, %[[Q0]]#0, %[[Q0]]#1 :
// CHECK: arith.truncf
// CHECK: %[[G1:.*]]:2 = linalg.generic {{.*}} ins(%arg4, %[[Q1]]#0, %[[Q1]]#1 :
// CHECK: %[[GAMMA:.*]] = linalg.generic {{.*}} ins(%[[G0]]#0, %[[G1]]#0 : tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[BETA:.*]] = linalg.generic {{.*}} ins(%[[G0]]#1, %[[G1]]#1 : tensor<4xf32>, tensor<4xf32>)
// CHECK: return %{{.*}}, %[[GAMMA]], %[[BETA]]
func.func @batch_norm_grad(%dy: tensor<4x3x3x4xf32>, %x: tensor<4x3x3x4xf32>, %g: tensor<4xf32>,
                           %m: tensor<4xf32>, %v: tensor<4xf32>)
    -> (tensor<4x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
    attributes {dlc.reduction_chunk = 2 : i64} {
  %0:3 = dlc.batch_norm_grad %dy, %x, %g, %m, %v
      : (tensor<4x3x3x4xf32>, tensor<4x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
     -> (tensor<4x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0#0, %0#1, %0#2 : tensor<4x3x3x4xf32>, tensor<4xf32>, tensor<4xf32>
}
