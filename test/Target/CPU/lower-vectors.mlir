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

// -----

// The accumulator of a filter gradient's register tile (output tile
// [rows, 1, w, f]) is read with the unit dimension dropped by the map but
// written through a broadcast and a transpose that put it back. The write
// takes the read's form, so that the pair is hoisted out of the reduction
// loop and the accumulator stays in registers (no load or store inside).

// CHECK-LABEL: func @unit_dim_accumulator
// CHECK-COUNT-6: vector.load %{{.*}} : memref<8x3x3x16xf32>, vector<16xf32>
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (vector<2x3x16xf32>)
// CHECK-NOT: memref<8x3x3x16xf32>
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK-COUNT-6: vector.store %{{.*}} : memref<8x3x3x16xf32>, vector<16xf32>
func.func @unit_dim_accumulator(%x: memref<32x16xf32>, %out: memref<8x3x3x16xf32>, %i: index, %j: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  scf.for %k = %c0 to %c32 step %c1 {
    %v = vector.transfer_read %x[%k, %c0], %zero {in_bounds = [true]} : memref<32x16xf32>, vector<16xf32>
    %acc = vector.transfer_read %out[%i, %j, %c0, %c0], %zero {in_bounds = [true, true, true], permutation_map = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>} : memref<8x3x3x16xf32>, vector<2x3x16xf32>
    %b = vector.broadcast %v : vector<16xf32> to vector<2x3x16xf32>
    %sum = arith.addf %acc, %b : vector<2x3x16xf32>
    %e = vector.broadcast %sum : vector<2x3x16xf32> to vector<1x2x3x16xf32>
    %t = vector.transpose %e, [1, 0, 2, 3] : vector<1x2x3x16xf32> to vector<2x1x3x16xf32>
    vector.transfer_write %t, %out[%i, %j, %c0, %c0] {in_bounds = [true, true, true, true]} : vector<2x1x3x16xf32>, memref<8x3x3x16xf32>
  }
  return
}

// -----

// A broadcast that stretches a dimension (an initial value) is not a
// reshaping: the write keeps its form.

// CHECK-LABEL: func @stretching_broadcast
// CHECK-COUNT-6: vector.store %{{.*}} : memref<1x1x6x16xf32>, vector<16xf32>
// CHECK-NOT: vector.store
// CHECK: return
func.func @stretching_broadcast(%v: vector<16xf32>, %out: memref<1x1x6x16xf32>) {
  %c0 = arith.constant 0 : index
  %b = vector.broadcast %v : vector<16xf32> to vector<1x1x6x16xf32>
  vector.transfer_write %b, %out[%c0, %c0, %c0, %c0] {in_bounds = [true, true, true, true]} : vector<1x1x6x16xf32>, memref<1x1x6x16xf32>
  return
}
