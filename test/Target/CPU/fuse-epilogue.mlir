// RUN: dlc-opt %s -split-input-file -dlc-cpu-tile-and-vectorize="vector-lanes=8 accumulator-registers=12" -canonicalize | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-cpu-tile-and-vectorize="vector-lanes=8 accumulator-registers=12 fuse-epilogue=false" -canonicalize | FileCheck %s --check-prefix=OFF

// Epilogue fusion in the CPU schedule: elementwise consumers of a
// convolution or matmul, and the batch-norm statistics that
// dlc.conv2d_bn_stats marks dlc.epilogue, run on each output tile right
// after its reduction, inside the tile loops.

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>

// An inference conv block (bias as the initial value, relu): one kernel.
// The convolution accumulates in the relu's output tile, which the relu
// overwrites in place: the pre-activation tensor is never stored, and the
// loops carry one tensor.

// CHECK-LABEL: func @conv_bias_relu
// CHECK: scf.for {{.*}} -> (tensor<2x8x8x32xf32>)
// CHECK: scf.for {{.*}} -> (tensor<2x8x8x32xf32>)
// CHECK: scf.for {{.*}} -> (tensor<2x8x8x32xf32>)
// CHECK: %[[SLICE:.*]] = tensor.extract_slice
// CHECK: vector.transfer_write {{.*}}, %[[SLICE]]
// CHECK: %[[TILE:.*]] = scf.for
// CHECK: vector.contract
// CHECK: %[[V:.*]] = vector.transfer_read %[[TILE]]
// CHECK: %[[R:.*]] = arith.maximumf %[[V]]
// CHECK: vector.transfer_write %[[R]]
// CHECK-NOT: tensor.insert_slice
// CHECK: scf.yield
// CHECK-NOT: linalg.generic
// CHECK: return

// OFF-LABEL: func @conv_bias_relu
// OFF: scf.for
// OFF-NOT: arith.maximumf
// OFF: linalg.generic
// OFF: arith.maximumf
func.func @conv_bias_relu(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>, %b: tensor<32xf32>) -> tensor<2x8x8x32xf32> {
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %init = linalg.broadcast ins(%b : tensor<32xf32>) outs(%e : tensor<2x8x8x32xf32>) dimensions = [0, 1, 2]
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %e2 = tensor.empty() : tensor<2x8x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<2x8x8x32xf32>) outs(%e2 : tensor<2x8x8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %z : f32
    linalg.yield %m : f32
  } -> tensor<2x8x8x32xf32>
  return %r : tensor<2x8x8x32xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>

// Training: the per-channel f64 sums of dlc.conv2d_bn_stats accumulate on
// each tile (a multi_reduction of the tile into loop-carried [C] vectors);
// the convolution's output is still stored, the backward pass reads it.

// CHECK-LABEL: func @conv_bn_stats
// CHECK: scf.for {{.*}} -> (tensor<2x8x8x32xf32>, tensor<32xf64>, tensor<32xf64>)
// CHECK: vector.contract
// CHECK: arith.extf {{.*}} to vector<1x1x2x32xf64>
// CHECK: vector.multi_reduction <add>, {{.*}} [0, 1, 2] : vector<1x1x2x32xf64> to vector<32xf64>
// CHECK: tensor.insert_slice
// CHECK-NOT: linalg.generic
// CHECK: return

// OFF-LABEL: func @conv_bn_stats
// OFF: scf.for {{.*}} -> (tensor<2x8x8x32xf32>)
// OFF: linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction", "parallel"]
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

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>

// Must not fire: a reduction that no fused op marked (batch statistics of
// a plain dlc.batch_norm_train: --no-fuse-conv-bn-relu keeps it apart).

// CHECK-LABEL: func @unmarked_reduction
// CHECK: scf.for {{.*}} -> (tensor<2x8x8x32xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction", "parallel"]
func.func @unmarked_reduction(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>, %init: tensor<2x8x8x32xf32>, %acc: tensor<32xf32>) -> tensor<32xf32> {
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %s = linalg.generic {indexing_maps = [#id, #ch], iterator_types = ["reduction", "reduction", "reduction", "parallel"]} ins(%c : tensor<2x8x8x32xf32>) outs(%acc : tensor<32xf32>) {
  ^bb0(%in: f32, %a: f32):
    %s1 = arith.addf %a, %in : f32
    linalg.yield %s1 : f32
  } -> tensor<32xf32>
  return %s : tensor<32xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Must not fire: the consumer needs a value computed after the
// convolution (here by an elementwise op on an argument), which the tile
// loops cannot see.

// CHECK-LABEL: func @operand_after_loops
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>)
// CHECK: arith.addf
func.func @operand_after_loops(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>, %y: tensor<2x8x8x32xf32>, %init: tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32> {
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %e0 = tensor.empty() : tensor<2x8x8x32xf32>
  %d = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y : tensor<2x8x8x32xf32>) outs(%e0 : tensor<2x8x8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = arith.mulf %in, %in : f32
    linalg.yield %t : f32
  } -> tensor<2x8x8x32xf32>
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %d : tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>) outs(%e : tensor<2x8x8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x8x8x32xf32>
  return %r : tensor<2x8x8x32xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A residual add + relu of two convolutions' outputs runs in the epilogue
// of the second one, reading the first one's output tile by tile.

// CHECK-LABEL: func @residual_add
// CHECK: %[[FIRST:.*]] = scf.for
// CHECK: scf.for
// CHECK: vector.contract
// CHECK: vector.transfer_read %[[FIRST]]
// CHECK: arith.addf
// CHECK: arith.maximumf
// CHECK: scf.yield
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @residual_add(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>, %w2: tensor<3x3x16x32xf32>, %init: tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32> {
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %d = linalg.conv_2d_nhwc_hwcf ins(%x, %w2 : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c, %d : tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>) outs(%e : tensor<2x8x8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %s, %z : f32
    linalg.yield %m : f32
  } -> tensor<2x8x8x32xf32>
  return %r : tensor<2x8x8x32xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// A convolution output read by its epilogue and by someone else (the
// backward pass of training): the epilogue is fused, the output is still
// stored for the other reader.

// CHECK-LABEL: func @two_readers
// CHECK: scf.for {{.*}} -> (tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.insert_slice
// CHECK: return
func.func @two_readers(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>, %init: tensor<2x8x8x32xf32>) -> (tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>) {
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<2x8x8x32xf32>) outs(%e : tensor<2x8x8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %z : f32
    linalg.yield %m : f32
  } -> tensor<2x8x8x32xf32>
  return %c, %r : tensor<2x8x8x32xf32>, tensor<2x8x8x32xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// Must not fire: integer arithmetic in the body (dropout's generator) has
// no n-D vector lowering; it stays its own pass.

// CHECK-LABEL: func @integer_body
// CHECK: scf.for
// CHECK: linalg.generic
// CHECK: arith.muli
func.func @integer_body(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x32xf32>, %init: tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32> {
  %c = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x32xf32>) outs(%init : tensor<2x8x8x32xf32>) -> tensor<2x8x8x32xf32>
  %e = tensor.empty() : tensor<2x8x8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<2x8x8x32xf32>) outs(%e : tensor<2x8x8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 3 : index
    %j = arith.index_cast %i : index to i32
    %k = arith.muli %j, %j : i32
    %f = arith.sitofp %k : i32 to f32
    %m = arith.mulf %in, %f : f32
    linalg.yield %m : f32
  } -> tensor<2x8x8x32xf32>
  return %r : tensor<2x8x8x32xf32>
}

// -----

// Dense + bias + relu (a reduction of at most 512: no outer K block): the
// relu runs on each 4 x 16 output tile.

// CHECK-LABEL: func @dense_bias_relu
// CHECK: scf.for {{.*}} -> (tensor<64x128xf32>)
// CHECK: scf.for {{.*}} -> (tensor<64x128xf32>)
// CHECK: vector.broadcast
// CHECK: scf.for
// CHECK: vector.contract {{.*}} : vector<4x8xf32>, vector<8x16xf32> into vector<4x16xf32>
// CHECK: arith.maximumf {{.*}} : vector<4x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @dense_bias_relu(%a: tensor<64x256xf32>, %b: tensor<256x128xf32>, %bias: tensor<128xf32>) -> tensor<64x128xf32> {
  %e = tensor.empty() : tensor<64x128xf32>
  %init = linalg.broadcast ins(%bias : tensor<128xf32>) outs(%e : tensor<64x128xf32>) dimensions = [0]
  %y = linalg.matmul ins(%a, %b : tensor<64x256xf32>, tensor<256x128xf32>) outs(%init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<64x128xf32>) outs(%e2 : tensor<64x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %z : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

// Dense + bias + relu with a blocked reduction (K = 1024 > 512): the last
// block of 512 becomes its own matmul, accumulating onto the first block's
// result, and carries the relu in its tile loops. The second matmul keeps
// its own output (it reads the first one's values, so its tile cannot
// live in the relu's output).

// CHECK-LABEL: func @dense_blocked_relu
// CHECK: %[[LEAD:.*]] = scf.for {{.*}} -> (tensor<64x128xf32>)
// CHECK-NOT: arith.maximumf
// CHECK: %[[LAST:.*]]:2 = scf.for {{.*}} iter_args(%{{.*}} = %[[LEAD]], %{{.*}} = %{{.*}}) -> (tensor<64x128xf32>, tensor<64x128xf32>)
// CHECK: affine.apply
// CHECK: vector.transfer_read {{.*}} : tensor<64x1024xf32>, vector<4x8xf32>
// CHECK: arith.maximumf {{.*}} : vector<4x16xf32>
// CHECK-NOT: linalg.generic
// CHECK: return %[[LAST]]#1

// OFF-LABEL: func @dense_blocked_relu
// OFF: scf.for {{.*}} step %c512
// OFF: linalg.generic
func.func @dense_blocked_relu(%a: tensor<64x1024xf32>, %b: tensor<1024x128xf32>, %bias: tensor<128xf32>) -> tensor<64x128xf32> {
  %e = tensor.empty() : tensor<64x128xf32>
  %init = linalg.broadcast ins(%bias : tensor<128xf32>) outs(%e : tensor<64x128xf32>) dimensions = [0]
  %y = linalg.matmul ins(%a, %b : tensor<64x1024xf32>, tensor<1024x128xf32>) outs(%init : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<64x128xf32>) outs(%e2 : tensor<64x128xf32>) {
  ^bb0(%in: f32, %out: f32):
    %z = arith.constant 0.0 : f32
    %m = arith.maximumf %in, %z : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  return %r : tensor<64x128xf32>
}

// -----

#mn = affine_map<(d0, d1) -> (d0, d1)>

// An optimizer update (here SGD with momentum: the parameter and its
// velocity in, both out) streams two more arrays of the output's size and
// has two results: it stays a pass of its own after the matmul's loops
// instead of running on each tile (cnn_bn's dense weight gradient with
// Adam: 3.7 ms fused, 1.0 + 0.8 ms apart).

// CHECK-LABEL: func @matmul_update
// CHECK: scf.for
// CHECK: vector.contract
// CHECK-NOT: arith.subf
// CHECK: scf.yield
// CHECK: linalg.generic
// CHECK: arith.subf
func.func @matmul_update(%a: tensor<64x32xf32>, %b: tensor<32x64xf32>, %w: tensor<64x64xf32>,
                         %v: tensor<64x64xf32>) -> (tensor<64x64xf32>, tensor<64x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %g = linalg.matmul ins(%a, %b : tensor<64x32xf32>, tensor<32x64xf32>) outs(%z : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r:2 = linalg.generic {indexing_maps = [#mn, #mn, #mn, #mn, #mn], iterator_types = ["parallel", "parallel"]}
      ins(%g, %w, %v : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) outs(%e, %e : tensor<64x64xf32>, tensor<64x64xf32>) {
  ^bb0(%gi: f32, %wi: f32, %vi: f32, %o0: f32, %o1: f32):
    %m = arith.constant 0.9 : f32
    %lr = arith.constant 0.01 : f32
    %mv = arith.mulf %vi, %m : f32
    %nv = arith.addf %mv, %gi : f32
    %s = arith.mulf %nv, %lr : f32
    %nw = arith.subf %wi, %s : f32
    linalg.yield %nw, %nv : f32, f32
  } -> (tensor<64x64xf32>, tensor<64x64xf32>)
  return %r#0, %r#1 : tensor<64x64xf32>, tensor<64x64xf32>
}

// -----

#mn = affine_map<(d0, d1) -> (d0, d1)>

// A consumer with one more operand of the output's size (a residual add)
// still runs on each tile.

// CHECK-LABEL: func @matmul_add
// CHECK: scf.for
// CHECK: vector.contract
// CHECK: arith.addf
// CHECK: scf.yield
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @matmul_add(%a: tensor<64x32xf32>, %b: tensor<32x64xf32>, %c: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x64xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x64xf32>) -> tensor<64x64xf32>
  %g = linalg.matmul ins(%a, %b : tensor<64x32xf32>, tensor<32x64xf32>) outs(%z : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r = linalg.generic {indexing_maps = [#mn, #mn, #mn], iterator_types = ["parallel", "parallel"]}
      ins(%g, %c : tensor<64x64xf32>, tensor<64x64xf32>) outs(%e : tensor<64x64xf32>) {
  ^bb0(%gi: f32, %ci: f32, %o: f32):
    %s = arith.addf %gi, %ci : f32
    linalg.yield %s : f32
  } -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}
