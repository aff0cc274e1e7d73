// RUN: dlc-opt %s -split-input-file -dlc-cpu-tile-and-vectorize="vector-lanes=8 accumulator-registers=12" -canonicalize | FileCheck %s

// AVX2 register tile of a convolution: 32 filters (4 registers) times a
// strip of 2 pixels (the largest divisor of 8 within 12 / 4 = 3), one filter
// row and one input channel per step (8 channels read 3 x 8 x 32 floats of
// filter at once, which LLVM spilled); the filter row is a 1-D convolution
// unrolled over its 3 columns into vector.contracts.

// CHECK-LABEL: func @conv
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C2]] step %[[C1]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C8]] step %[[C1]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C8]] step %[[C2]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C32]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C3]] step %[[C1]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C16]] step %[[C1]]
// CHECK: vector.transfer_read {{.*}} : tensor<2x10x10x16xf32>, vector<1x4x1xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<3x3x16x64xf32>, vector<3x1x32xf32>
// CHECK-COUNT-3: vector.contract {{.*}} : vector<1x2x1xf32>, vector<1x32xf32> into vector<1x2x32xf32>
// CHECK-NOT: linalg.conv
func.func @conv(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x64xf32>, %init: tensor<2x8x8x64xf32>) -> tensor<2x8x8x64xf32> {
  %y = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x64xf32>)
                                outs(%init : tensor<2x8x8x64xf32>) -> tensor<2x8x8x64xf32>
  return %y : tensor<2x8x8x64xf32>
}

// -----

// Matmul: first a block of 512 along the reduction (the panel stays in
// L2), then 4 x 16 output tiles over 8 reduction steps.

// CHECK-LABEL: func @matmul
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C512:.*]] = arith.constant 512 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C512]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C4]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C16]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C512]] step %[[C8]]
// CHECK: vector.contract {{.*}} : vector<4x8xf32>, vector<8x16xf32> into vector<4x16xf32>
func.func @matmul(%a: tensor<64x1024xf32>, %b: tensor<1024x128xf32>, %c: tensor<64x128xf32>) -> tensor<64x128xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<64x1024xf32>, tensor<1024x128xf32>)
                     outs(%c : tensor<64x128xf32>) -> tensor<64x128xf32>
  return %y : tensor<64x128xf32>
}

// -----

// Max pooling: a window row at a time, 3 pixels x 32 channels, stride 2
// read as one vector<1x6x32xf32>.

// CHECK-LABEL: func @pool
// CHECK: vector.transfer_read {{.*}} : tensor<2x24x24x64xf32>, vector<1x6x32xf32>
// CHECK: arith.maximumf {{.*}} : vector<1x1x32xf32>
// CHECK-NOT: linalg.pooling
func.func @pool(%x: tensor<2x24x24x64xf32>, %init: tensor<2x12x12x64xf32>) -> tensor<2x12x12x64xf32> {
  %win = tensor.empty() : tensor<2x2xf32>
  %y = linalg.pooling_nhwc_max {strides = dense<2> : tensor<2xi64>, dilations = dense<1> : tensor<2xi64>}
      ins(%x, %win : tensor<2x24x24x64xf32>, tensor<2x2xf32>) outs(%init : tensor<2x12x12x64xf32>) -> tensor<2x12x12x64xf32>
  return %y : tensor<2x12x12x64xf32>
}

// -----

// Dynamic shapes are left alone (they lower to plain loops later).

// CHECK-LABEL: func @dynamic
// CHECK-NOT: scf.for
// CHECK: linalg.matmul
func.func @dynamic(%a: tensor<?x16xf32>, %b: tensor<16x16xf32>, %c: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %y = linalg.matmul ins(%a, %b : tensor<?x16xf32>, tensor<16x16xf32>) outs(%c : tensor<?x16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

// The bias broadcast that initializes the accumulator is fused into the
// output tile: it becomes a vector broadcast of 32 biases written right
// before that tile's reduction loops, not a pass over the whole output.

// CHECK-LABEL: func @conv_bias_init
// CHECK-SAME: %[[B:[a-z0-9]*]]: tensor<64xf32>
// CHECK-NOT: linalg.broadcast
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: %[[BIAS:.*]] = vector.transfer_read %[[B]]{{.*}} : tensor<64xf32>, vector<32xf32>
// CHECK: %[[TILE:.*]] = vector.broadcast %[[BIAS]] : vector<32xf32> to vector<1x1x2x32xf32>
// CHECK: %[[INIT:.*]] = vector.transfer_write %[[TILE]]
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
// CHECK: scf.for
// CHECK: vector.contract
func.func @conv_bias_init(%x: tensor<2x10x10x16xf32>, %w: tensor<3x3x16x64xf32>, %b: tensor<64xf32>) -> tensor<2x8x8x64xf32> {
  %e = tensor.empty() : tensor<2x8x8x64xf32>
  %init = linalg.broadcast ins(%b : tensor<64xf32>) outs(%e : tensor<2x8x8x64xf32>) dimensions = [0, 1, 2]
  %y = linalg.conv_2d_nhwc_hwcf ins(%x, %w : tensor<2x10x10x16xf32>, tensor<3x3x16x64xf32>)
                                outs(%init : tensor<2x8x8x64xf32>) -> tensor<2x8x8x64xf32>
  return %y : tensor<2x8x8x64xf32>
}

// -----

// A filter gradient as a convolution: its "filter" (the output gradient,
// 295K floats) outgrows the cache and the output, so the reduction (filter
// rows, then blocks of up to 32 of the channels: here all 16) goes
// outermost and every 1 x 3 x 32 output tile is updated from the slice in
// cache; no fused init. Inside a tile, the channels (the layer's samples)
// go one at a time and, within each, the 24 filter columns 3 at a time with
// the accumulator carried (a whole row at once would read 24 x 16 x 32
// floats into vectors); consecutive steps then read neighbouring pixels.

// CHECK-LABEL: func @conv_filter_gradient
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C24:.*]] = arith.constant 24 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C24]] step %[[C1]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C8]] step %[[C1]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C3]] step %[[C1]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C16]] step %[[C1]] iter_args(%[[ACC0:.*]] = %{{.*}}) -> (tensor<1x1x3x32xf32>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C24]] step %[[C3]] iter_args(%[[ACC:.*]] = %[[ACC0]]) -> (tensor<1x1x3x32xf32>)
// CHECK: vector.transfer_read {{.*}} : tensor<24x24x16x32xf32>, vector<3x1x32xf32>
// CHECK: vector.transfer_read %[[ACC]]
// CHECK-COUNT-3: vector.contract {{.*}} : vector<1x3x1xf32>, vector<1x32xf32> into vector<1x3x32xf32>
// CHECK-NOT: vector.contract
// CHECK: vector.transfer_write {{.*}}, %[[ACC]]
// CHECK-NOT: linalg.conv
func.func @conv_filter_gradient(%x: tensor<8x26x26x16xf32>, %dy: tensor<24x24x16x32xf32>, %init: tensor<8x3x3x32xf32>) -> tensor<8x3x3x32xf32> {
  %y = linalg.conv_2d_nhwc_hwcf ins(%x, %dy : tensor<8x26x26x16xf32>, tensor<24x24x16x32xf32>)
                                outs(%init : tensor<8x3x3x32xf32>) -> tensor<8x3x3x32xf32>
  return %y : tensor<8x3x3x32xf32>
}

// -----

// A transpose that moves the innermost dimension goes in 16 x 16 blocks,
// each one vector transpose (16 rows read, 16 written).

// CHECK-LABEL: func @transpose_blocks
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C16]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C16]]
// CHECK: %[[R:.*]] = vector.transfer_read {{.*}} : tensor<64x9216xf32>, vector<16x16xf32>
// CHECK: %[[T:.*]] = vector.transpose %[[R]], [1, 0] : vector<16x16xf32> to vector<16x16xf32>
// CHECK: vector.transfer_write %[[T]], {{.*}} : vector<16x16xf32>, tensor<9216x64xf32>
// CHECK-NOT: linalg.transpose
func.func @transpose_blocks(%x: tensor<64x9216xf32>) -> tensor<9216x64xf32> {
  %e = tensor.empty() : tensor<9216x64xf32>
  %t = linalg.transpose ins(%x : tensor<64x9216xf32>) outs(%e : tensor<9216x64xf32>) permutation = [1, 0]
  return %t : tensor<9216x64xf32>
}

// -----

// With 16 output channels (two registers) a 3-wide row fills half the 12
// accumulators: two rows of the "batch" (the layer's input channels) per
// tile, 2 x 3 x 16. The 64 samples go in two blocks of 32 (one parallel
// region each), one at a time inside the tile, each along its row.

// CHECK-LABEL: func @conv_filter_gradient_rows
// CHECK: scf.for %{{.*}} = %c0 to %c24 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c64 step %c32
// CHECK: scf.for %{{.*}} = %c0 to %c8 step %c2
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args(%{{.*}}) -> (tensor<2x1x3x16xf32>)
// CHECK: scf.for %{{.*}} = %c0 to %c24 step %c3 iter_args(%{{.*}}) -> (tensor<2x1x3x16xf32>)
// CHECK-COUNT-3: vector.contract {{.*}} : vector<2x3x1xf32>, vector<1x16xf32> into vector<2x3x16xf32>
func.func @conv_filter_gradient_rows(%x: tensor<8x26x26x64xf32>, %dy: tensor<24x24x64x16xf32>, %init: tensor<8x3x3x16xf32>) -> tensor<8x3x3x16xf32> {
  %y = linalg.conv_2d_nhwc_hwcf ins(%x, %dy : tensor<8x26x26x64xf32>, tensor<24x24x64x16xf32>)
                                outs(%init : tensor<8x3x3x16xf32>) -> tensor<8x3x3x16xf32>
  return %y : tensor<8x3x3x16xf32>
}

// -----

// The NHWC -> CHWN transpose of a filter gradient: the blocks' loop (over
// N, in 16s; C is one block) outermost, then H and W, so that the next
// block is the next pixel of the same 16 rows on both sides.

// CHECK-LABEL: func @transpose_nhwc_chwn
// CHECK: scf.for %[[N:.*]] = %c0 to %c128 step %c16
// CHECK: scf.for %[[H:.*]] = %c0 to %c34 step %c1
// CHECK: scf.for %[[W:.*]] = %c0 to %c34 step %c1
// CHECK: %[[R:.*]] = vector.transfer_read %{{.*}}[%[[N]], %[[H]], %[[W]], %c0], {{.*}} : tensor<128x34x34x16xf32>, vector<16x1x1x16xf32>
// CHECK: vector.transpose %[[R]], [3, 1, 2, 0]
// CHECK: } {dlc.parallel}
// CHECK: } {dlc.parallel}
// CHECK: } {dlc.parallel}
func.func @transpose_nhwc_chwn(%x: tensor<128x34x34x16xf32>) -> tensor<16x34x34x128xf32> {
  %e = tensor.empty() : tensor<16x34x34x128xf32>
  %t = linalg.transpose ins(%x : tensor<128x34x34x16xf32>) outs(%e : tensor<16x34x34x128xf32>) permutation = [3, 1, 2, 0]
  return %t : tensor<16x34x34x128xf32>
}

// -----

// One that keeps the innermost dimension copies whole rows: left alone.

// CHECK-LABEL: func @transpose_rows
// CHECK-NOT: scf.for
// CHECK: linalg.transpose ins(%{{.*}} : tensor<8x6x6x16xf32>)
func.func @transpose_rows(%x: tensor<8x6x6x16xf32>) -> tensor<6x6x8x16xf32> {
  %e = tensor.empty() : tensor<6x6x8x16xf32>
  %t = linalg.transpose ins(%x : tensor<8x6x6x16xf32>) outs(%e : tensor<6x6x8x16xf32>) permutation = [1, 2, 0, 3]
  return %t : tensor<6x6x8x16xf32>
}

// -----

// The filter gradient's operands as lowered from conv2d_grad_filter: the
// padded input as CHWN and the output gradient as HWNF, both transposes
// read only by the convolution. Its tiles read the NHWC tensors in place
// (the transfers carry the permutation) and neither transpose is computed.

// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d3, d2, d0)>
// CHECK-DAG: #[[DYMAP:.*]] = affine_map<(d0, d1, d2, d3) -> (d2, d0, d3)>
// CHECK-LABEL: func @conv_filter_gradient_in_place
// CHECK-SAME: (%[[X:.*]]: tensor<64x26x26x8xf32>, %[[DY:.*]]: tensor<64x24x24x16xf32>
// CHECK-NOT: linalg.transpose
// CHECK: vector.transfer_read %[[X]][{{.*}}], {{.*}}permutation_map = #[[XMAP]]} : tensor<64x26x26x8xf32>, vector<2x5x1xf32>
// CHECK: vector.transfer_read %[[DY]][{{.*}}], {{.*}}permutation_map = #[[DYMAP]]} : tensor<64x24x24x16xf32>, vector<3x1x16xf32>
// CHECK-COUNT-3: vector.contract
// CHECK-NOT: linalg.transpose
func.func @conv_filter_gradient_in_place(%x: tensor<64x26x26x8xf32>, %dy: tensor<64x24x24x16xf32>, %init: tensor<8x3x3x16xf32>) -> tensor<8x3x3x16xf32> {
  %ex = tensor.empty() : tensor<8x26x26x64xf32>
  %xt = linalg.transpose ins(%x : tensor<64x26x26x8xf32>) outs(%ex : tensor<8x26x26x64xf32>) permutation = [3, 1, 2, 0]
  %ed = tensor.empty() : tensor<24x24x64x16xf32>
  %dyt = linalg.transpose ins(%dy : tensor<64x24x24x16xf32>) outs(%ed : tensor<24x24x64x16xf32>) permutation = [1, 2, 0, 3]
  %y = linalg.conv_2d_nhwc_hwcf ins(%xt, %dyt : tensor<8x26x26x64xf32>, tensor<24x24x64x16xf32>)
                                outs(%init : tensor<8x3x3x16xf32>) -> tensor<8x3x3x16xf32>
  return %y : tensor<8x3x3x16xf32>
}

// -----

// A transpose with another reader is computed (in blocks) for both.

// CHECK-LABEL: func @transpose_also_returned
// CHECK: vector.transpose {{.*}}, [3, 1, 2, 0]
// CHECK: vector.contract
func.func @transpose_also_returned(%x: tensor<64x26x26x8xf32>, %dyt: tensor<24x24x64x16xf32>, %init: tensor<8x3x3x16xf32>) -> (tensor<8x3x3x16xf32>, tensor<8x26x26x64xf32>) {
  %ex = tensor.empty() : tensor<8x26x26x64xf32>
  %xt = linalg.transpose ins(%x : tensor<64x26x26x8xf32>) outs(%ex : tensor<8x26x26x64xf32>) permutation = [3, 1, 2, 0]
  %y = linalg.conv_2d_nhwc_hwcf ins(%xt, %dyt : tensor<8x26x26x64xf32>, tensor<24x24x64x16xf32>)
                                outs(%init : tensor<8x3x3x16xf32>) -> tensor<8x3x3x16xf32>
  return %y, %xt : tensor<8x3x3x16xf32>, tensor<8x26x26x64xf32>
}
