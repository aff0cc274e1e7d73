// RUN: dlc-opt %s -split-input-file -dlc-cpu-split-batch-reductions="min-work=1024" | FileCheck %s

// dlc-cpu-split-batch-reductions: a reduction over the batch becomes one
// partial result per sample (the batch dimension parallel), then a combine
// in sample order.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>

// Batch-norm statistics (sum and sum of squares in f64), as
// dlc.conv2d_bn_stats lowers them: the epilogue attribute stays on the
// per-sample generic, which is what the convolution's tiles fuse.

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[NC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3)>
// CHECK-DAG: #[[P:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func @bn_stats
// CHECK-SAME: (%[[X:.*]]: tensor<8x4x4x16xf32>, %[[INIT:.*]]: tensor<16xf64>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x16xf64>
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f64) outs(%[[E]]
// CHECK: %[[PART:.*]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[NC]], #[[NC]]], iterator_types = ["parallel", "reduction", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[X]] : tensor<8x4x4x16xf32>) outs(%{{.*}}, %{{.*}} : tensor<8x16xf64>, tensor<8x16xf64>)
// CHECK-SAME: dlc.epilogue
// CHECK: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK: %[[SUM:.*]]:2 = linalg.generic {indexing_maps = [#[[P]], #[[P]], #[[C]], #[[C]]], iterator_types = ["reduction", "parallel"]}
// CHECK-SAME: ins(%[[PART]]#0, %[[PART]]#1 : tensor<8x16xf64>, tensor<8x16xf64>) outs(%[[INIT]], %[[INIT]] : tensor<16xf64>, tensor<16xf64>)
// CHECK-SAME: dlc.combine
// CHECK: ^bb0(%[[A:.*]]: f64, %[[B:.*]]: f64, %[[OA:.*]]: f64, %[[OB:.*]]: f64):
// CHECK: arith.addf %[[OA]], %[[A]] : f64
// CHECK: arith.addf %[[OB]], %[[B]] : f64
// CHECK: return %[[SUM]]#0, %[[SUM]]#1
func.func @bn_stats(%x: tensor<8x4x4x16xf32>, %init: tensor<16xf64>)
    -> (tensor<16xf64>, tensor<16xf64>) {
  %r:2 = linalg.generic {indexing_maps = [#id, #ch, #ch],
      iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
      ins(%x : tensor<8x4x4x16xf32>) outs(%init, %init : tensor<16xf64>, tensor<16xf64>)
      attrs = {dlc.epilogue} {
  ^bb0(%in: f32, %s: f64, %q: f64):
    %e = arith.extf %in : f32 to f64
    %a = arith.addf %s, %e : f64
    %m = arith.mulf %e, %e : f64
    %b = arith.addf %q, %m : f64
    linalg.yield %a, %b : f64, f64
  } -> (tensor<16xf64>, tensor<16xf64>)
  return %r#0, %r#1 : tensor<16xf64>, tensor<16xf64>
}

// -----

// A max over the batch and rows starts from -inf.

// CHECK-LABEL: func @max_over_batch
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// CHECK: arith.maximumf
func.func @max_over_batch(%x: tensor<64x8x32xf32>, %init: tensor<32xf32>) -> tensor<32xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>],
      iterator_types = ["reduction", "reduction", "parallel"]}
      ins(%x : tensor<64x8x32xf32>) outs(%init : tensor<32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<32xf32>
  return %r : tensor<32xf32>
}

// -----

// Left alone: an output that is not accumulated (out * x), a reduction
// whose outermost dimension is parallel, and one too small. (A reduction
// over the batch alone, as in @not_split's first generic, would not be
// split either: its partials would copy the input.)

// CHECK-LABEL: func @not_split
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK-NOT: dlc.combine
func.func @not_split(%x: tensor<64x32xf32>, %init: tensor<32xf32>, %rows: tensor<64xf32>,
                     %small: tensor<4x8xf32>, %init8: tensor<8xf32>)
    -> (tensor<32xf32>, tensor<64xf32>, tensor<8xf32>) {
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["reduction", "parallel"]}
      ins(%x : tensor<64x32xf32>) outs(%init : tensor<32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    %m = arith.mulf %s, %out : f32
    linalg.yield %m : f32
  } -> tensor<32xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<64x32xf32>) outs(%rows : tensor<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %c = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>],
      iterator_types = ["reduction", "parallel"]}
      ins(%small : tensor<4x8xf32>) outs(%init8 : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %a, %b, %c : tensor<32xf32>, tensor<64xf32>, tensor<8xf32>
}
