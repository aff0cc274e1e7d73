// RUN: dlc-opt %s -split-input-file -dlc-cpu-lower-vectors | FileCheck %s

// The batch-norm sum of squares of an epilogue tile arrives as a
// vector.contract of the tile with itself, reducing every dimension but
// the channels. It becomes a multiplication and row-by-row vector adds
// (one per row of the tile), not an element-by-element unrolling.

// CHECK-LABEL: func @sum_of_squares
// CHECK-NOT: vector.contract
// CHECK: arith.mulf {{.*}} : vector<1x1x4x16xf64>
// CHECK-COUNT-4: arith.addf {{.*}} : vector<16xf64>
// CHECK-NOT: vector.extract {{.*}} : f64
// CHECK: return
func.func @sum_of_squares(%x: vector<1x1x4x16xf64>, %acc: vector<16xf64>) -> vector<16xf64> {
  %r = vector.contract {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                         affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>,
                                         affine_map<(d0, d1, d2, d3) -> (d3)>],
                        iterator_types = ["reduction", "reduction", "reduction", "parallel"],
                        kind = #vector.kind<add>} %x, %x, %acc
      : vector<1x1x4x16xf64>, vector<1x1x4x16xf64> into vector<16xf64>
  return %r : vector<16xf64>
}

// -----

// A real contraction (a register tile of a matmul) keeps the outer-product
// lowering: one FMA per reduction step.

// CHECK-LABEL: func @matmul_tile
// CHECK-COUNT-8: vector.fma {{.*}} : vector<16xf32>
// CHECK-NOT: vector.multi_reduction
func.func @matmul_tile(%a: vector<1x8xf32>, %b: vector<8x16xf32>, %c: vector<1x16xf32>) -> vector<1x16xf32> {
  %r = vector.contract {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>,
                                         affine_map<(d0, d1, d2) -> (d2, d1)>,
                                         affine_map<(d0, d1, d2) -> (d0, d1)>],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %a, %b, %c
      : vector<1x8xf32>, vector<8x16xf32> into vector<1x16xf32>
  return %r : vector<1x16xf32>
}
