// RUN: dlc-opt %s -split-input-file -convert-dlc-to-linalg | FileCheck %s

// Without a key, dropout is the identity (inference): no op remains.

// CHECK-LABEL: func @dropout_keyless
// CHECK-SAME: (%[[X:.*]]: tensor<4x128xf32>)
// CHECK-NEXT: return %[[X]]
func.func @dropout_keyless(%x: tensor<4x128xf32>) -> tensor<4x128xf32> {
  %y = dlc.dropout %x {rate = 0.5 : f32} : (tensor<4x128xf32>) -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}

// -----

// With a key: Philox4x32-10 on counter (index lo, index hi, stream lo,
// stream hi) and key (key lo, key hi); ten rounds of two 32x32->64
// multiplies. The element is kept when u(word0) >= rate and scaled by
// 1 / (1 - rate).

// CHECK-LABEL: func @dropout_keyed
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[KEY:.*]]: i64)
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[X]] : tensor<4x8xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK: %[[ROW:.*]] = linalg.index 0 : index
// CHECK: %[[C8:.*]] = arith.constant 8 : index
// CHECK: %[[R8:.*]] = arith.muli %[[ROW]], %[[C8]] : index
// CHECK: %[[COL:.*]] = linalg.index 1 : index
// CHECK: %[[LINEAR:.*]] = arith.addi %[[R8]], %[[COL]] : index
// CHECK: arith.index_castui %[[LINEAR]] : index to i64
// CHECK: arith.constant 3 : i64
// CHECK: arith.shrui %[[KEY]]
// CHECK: arith.trunci %[[KEY]] : i64 to i32
// CHECK-COUNT-20: arith.mului_extended
// CHECK-NOT: arith.mului_extended
// CHECK: %[[BITS:.*]] = arith.shrui %{{.*}}, %{{.*}} : i32
// CHECK: %[[UF:.*]] = arith.uitofp %[[BITS]] : i32 to f32
// CHECK: %[[U:.*]] = arith.mulf %[[UF]], %{{.*}} : f32
// CHECK: %[[RATE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: %[[KEEP:.*]] = arith.cmpf oge, %[[U]], %[[RATE]] : f32
// CHECK: %[[SCALE:.*]] = arith.constant 1.33333337 : f32
// CHECK: %[[SCALED:.*]] = arith.mulf %[[IN]], %[[SCALE]] : f32
// CHECK: arith.select %[[KEEP]], %[[SCALED]], %{{.*}} : f32
func.func @dropout_keyed(%x: tensor<4x8xf32>, %key: i64) -> tensor<4x8xf32> {
  %y = dlc.dropout %x, %key {rate = 0.25 : f32, stream = 3} : (tensor<4x8xf32>, i64) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// Per-image draws first (one Philox call per image), then a gather that
// mirrors the width index of the flipped images.

// CHECK-LABEL: func @flip_horizontal
// CHECK-SAME: (%[[X:.*]]: tensor<8x4x4x3xf32>, %[[KEY:.*]]: i64)
// CHECK: %[[DRAWS:.*]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel"]
// CHECK-SAME: outs(%{{.*}}, %{{.*}} : tensor<8xi32>, tensor<8xi32>)
// CHECK-COUNT-20: arith.mului_extended
// CHECK: arith.cmpf olt
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[DRAWS]]#0, %[[DRAWS]]#1 : tensor<8xi32>, tensor<8xi32>)
// CHECK: ^bb0(%[[H:.*]]: i32, %[[V:.*]]: i32, %{{.*}}: f32):
// CHECK: %[[N:.*]] = linalg.index 0 : index
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[MJ:.*]] = arith.subi %{{.*}}, %[[J]] : index
// CHECK: %[[FH:.*]] = arith.trunci %[[H]] : i32 to i1
// CHECK: %[[SJ:.*]] = arith.select %[[FH]], %[[MJ]], %[[J]] : index
// CHECK: tensor.extract %[[X]][%[[N]], %{{.*}}, %[[SJ]], %{{.*}}] : tensor<8x4x4x3xf32>
func.func @flip_horizontal(%x: tensor<8x4x4x3xf32>, %key: i64) -> tensor<8x4x4x3xf32> {
  %y = dlc.random_flip %x, %key {mode = #dlc.flip_mode<horizontal>, stream = 2}
      : (tensor<8x4x4x3xf32>, i64) -> tensor<8x4x4x3xf32>
  return %y : tensor<8x4x4x3xf32>
}

// -----

// Translation with constant fill: the shift is round(factor * size); a
// source outside the image reads the fill value.

// CHECK-LABEL: func @translate_constant
// CHECK: math.round
// CHECK: arith.fptosi
// CHECK: linalg.generic
// CHECK: arith.cmpi sge
// CHECK: arith.cmpi slt
// CHECK: tensor.extract
// CHECK: %[[FILL:.*]] = arith.constant 5.000000e-01 : f32
// CHECK: arith.select %{{.*}}, %{{.*}}, %[[FILL]] : f32
func.func @translate_constant(%x: tensor<2x7x9x1xf32>, %key: i64) -> tensor<2x7x9x1xf32> {
  %y = dlc.random_translation %x, %key {fill_mode = #dlc.fill_mode<constant>, fill_value = 0.5 : f32,
                                        height_factor = array<f32: -0.3, 0.3>,
                                        width_factor = array<f32: -0.2, 0.4>}
      : (tensor<2x7x9x1xf32>, i64) -> tensor<2x7x9x1xf32>
  return %y : tensor<2x7x9x1xf32>
}

// -----

// CHECK-LABEL: func @translate_keyless
// CHECK-SAME: (%[[X:.*]]: tensor<2x7x9x1xf32>)
// CHECK-NEXT: return %[[X]]
func.func @translate_keyless(%x: tensor<2x7x9x1xf32>) -> tensor<2x7x9x1xf32> {
  %y = dlc.random_translation %x {height_factor = array<f32: -0.3, 0.3>, width_factor = array<f32: -0.2, 0.4>}
      : (tensor<2x7x9x1xf32>) -> tensor<2x7x9x1xf32>
  return %y : tensor<2x7x9x1xf32>
}

// -----

// Keyless crop is the center crop, (H - h) / 2 and (W - w) / 2 rounded down.

// CHECK-LABEL: func @crop_center
// CHECK: tensor.extract_slice %{{.*}}[0, 1, 1, 0] [2, 5, 6, 3] [1, 1, 1, 1] : tensor<2x8x9x3xf32> to tensor<2x5x6x3xf32>
func.func @crop_center(%x: tensor<2x8x9x3xf32>) -> tensor<2x5x6x3xf32> {
  %y = dlc.random_crop %x {height = 5, width = 6} : (tensor<2x8x9x3xf32>) -> tensor<2x5x6x3xf32>
  return %y : tensor<2x5x6x3xf32>
}

// -----

// Keyed crop: per-image offsets min(floor(u * (slack + 1)), slack), added
// to the output indices of a gather.

// CHECK-LABEL: func @crop_keyed
// CHECK: %[[OFF:.*]]:2 = linalg.generic
// CHECK: arith.fptosi
// CHECK: arith.minsi
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[OFF]]#0, %[[OFF]]#1 :
// CHECK: arith.addi
// CHECK: arith.addi
// CHECK: tensor.extract
func.func @crop_keyed(%x: tensor<2x8x9x3xf32>, %key: i64) -> tensor<2x5x6x3xf32> {
  %y = dlc.random_crop %x, %key {height = 5, width = 6} : (tensor<2x8x9x3xf32>, i64) -> tensor<2x5x6x3xf32>
  return %y : tensor<2x5x6x3xf32>
}
