// RUN: dlc-opt %s -split-input-file -dlc-cpu-tile-and-vectorize="vector-lanes=8 accumulator-registers=12" | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-cpu-split-batch-reductions="min-work=1024" -dlc-cpu-tile-and-vectorize="vector-lanes=8 accumulator-registers=12" | FileCheck %s --check-prefix=SPLIT

// The CPU schedule marks the tile loops that may run on every core
// (dlc.parallel): those of the output's parallel dimensions, unless a
// reduction fused into the epilogue accumulates across them.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>

// A plain convolution: its output-tile loops (n, oh, ow) are marked, the
// reduction loops inside them (kh, c) are not.

// CHECK-LABEL: func @conv
// CHECK: vector.contract
// CHECK: scf.yield {{.*}} : tensor<1x1x2x32xf32>
// CHECK-NEXT: }{{$}}
// CHECK-NEXT: scf.yield {{.*}} : tensor<1x1x2x32xf32>
// CHECK-NEXT: }{{$}}
// CHECK-COUNT-4: } {dlc.parallel}
// CHECK-NOT: dlc.parallel
// CHECK: return
func.func @conv(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>) -> tensor<2x8x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  return %c : tensor<2x8x8x32xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>

// With the batch-norm statistics in its epilogue, the tiles of a channel
// block all add to the same sums: only the channel loop (the innermost
// tile loop) is marked. Split per sample first
// (dlc-cpu-split-batch-reductions), the batch loop is independent again.

// CHECK-LABEL: func @conv_bn_stats
// CHECK: } {dlc.parallel}
// CHECK-NEXT: scf.yield
// CHECK-NEXT: }{{$}}
// CHECK-NEXT: scf.yield
// CHECK-NEXT: }{{$}}
// CHECK-NEXT: scf.yield
// CHECK-NEXT: }{{$}}
// CHECK-NOT: dlc.parallel
// CHECK: return
// SPLIT-LABEL: func @conv_bn_stats
// SPLIT: scf.for {{.*}} -> (tensor<2x8x8x32xf32>, tensor<2x32xf64>, tensor<2x32xf64>)
// SPLIT: } {dlc.parallel}
// SPLIT-NEXT: scf.yield
// SPLIT-NEXT: }{{$}}
// SPLIT-NEXT: scf.yield
// SPLIT-NEXT: }{{$}}
// SPLIT-NEXT: scf.yield
// SPLIT-NEXT: } {dlc.parallel}
// SPLIT: dlc.combine
func.func @conv_bn_stats(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>) -> (tensor<2x8x8x32xf32>, tensor<32xf64>, tensor<32xf64>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %z64 = arith.constant 0.0 : f64
  %e3 = tensor.empty() : tensor<32xf64>
  %acc = linalg.fill ins(%z64 : f64) outs(%e3 : tensor<32xf64>) -> tensor<32xf64>
  %s:2 = linalg.generic {indexing_maps = [#id, #ch, #ch], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%c : tensor<2x8x8x32xf32>) outs(%acc, %acc : tensor<32xf64>, tensor<32xf64>) attrs = {dlc.epilogue} {
  ^bb0(%in: f32, %a: f64, %b: f64):
    %v = arith.extf %in : f32 to f64
    %s1 = arith.addf %a, %v : f64
    %sq = arith.mulf %v, %v : f64
    %s2 = arith.addf %b, %sq : f64
    linalg.yield %s1, %s2 : f64, f64
  } -> (tensor<32xf64>, tensor<32xf64>)
  return %c, %s#0, %s#1 : tensor<2x8x8x32xf32>, tensor<32xf64>, tensor<32xf64>
}
