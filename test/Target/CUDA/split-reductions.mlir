// RUN: dlc-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(dlc-cuda-form-kernels{tensor-cores=false}))' | FileCheck %s
// RUN: dlc-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(dlc-cuda-form-kernels{split-threads=0 tensor-cores=false}))' | FileCheck %s --check-prefix=OFF

// Batch-norm statistics of a 64x26x26x32 activation: 32 outputs, 43264
// iterations each. Split over N (64 whole chunks) and H (9 chunks of 3,
// the last one short): 576 partials, one thread per (partial, channel),
// the channel fastest (coalesced); every partial starts from the neutral
// element, the combine kernel folds the 576 partials into each output in
// order, starting from its value (no atomics anywhere).
// CHECK-LABEL: func.func @bn_statistics
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<64x26x26x32xf32>, %[[S:[a-z0-9]+]]: memref<32xf32>, %[[Q:[a-z0-9]+]]: memref<32xf64>
// CHECK: %[[PS:.*]] = memref.alloc() : memref<576x32xf32>
// CHECK: %[[PQ:.*]] = memref.alloc() : memref<576x32xf64>
// CHECK: gpu.launch {{.*}} in (%{{.*}} = %c72, {{.*}} threads({{.*}}) in (%{{.*}} = %c256, {{.*}} function(@bn_statistics_generic_partials)
// CHECK: %[[ID:.*]] = arith.addi
// CHECK: arith.cmpi ult, %[[ID]], %c18432
// CHECK: %[[C:.*]] = arith.remui %[[ID]], %c32
// CHECK: %[[P:.*]] = arith.divui %[[ID]], %c32
// CHECK: %[[H:.*]] = arith.remui %[[P]], %c9
// CHECK: %[[N:.*]] = arith.divui %[[P]], %c9
// CHECK: %[[N1:.*]] = arith.addi %{{.*}}, %c1
// CHECK: %[[H0:.*]] = arith.muli %[[H]], %c3
// CHECK: %[[H3:.*]] = arith.addi %[[H0]], %c3
// CHECK: %[[H1:.*]] = arith.minui %[[H3]], %c26
// CHECK: %[[VS:.*]] = memref.subview %[[PS]][%[[P]], 0] [1, 32] [1, 1]
// CHECK: memref.store %{{.*}}, %[[VS]][%[[C]]]
// CHECK: %[[VQ:.*]] = memref.subview %[[PQ]][%[[P]], 0] [1, 32] [1, 1]
// CHECK: memref.store %{{.*}}, %[[VQ]][%[[C]]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[N1]]
// CHECK: scf.for %{{.*}} = %[[H0]] to %[[H1]]
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c26
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[VQ]]
// CHECK: memref.store %{{.*}}, %[[VS]]
// CHECK: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c32{{.*}} function(@bn_statistics_generic_combine)
// CHECK: memref.load %[[S]]
// CHECK: memref.load %[[Q]]
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c576
// CHECK: memref.load %[[PS]][%{{.*}}, %{{.*}}] : memref<576x32xf32>
// CHECK: memref.load %[[PQ]][%{{.*}}, %{{.*}}] : memref<576x32xf64>
// CHECK: memref.store %{{.*}}, %[[Q]]
// CHECK: memref.store %{{.*}}, %[[S]]
// CHECK: memref.dealloc %[[PS]]
// CHECK: memref.dealloc %[[PQ]]
// CHECK-NOT: atomic
// OFF-LABEL: func.func @bn_statistics
// OFF-NOT: memref.alloc
// OFF: gpu.launch {{.*}} threads({{.*}}) in (%{{.*}} = %c32{{.*}} function(@bn_statistics_generic)
// OFF-NOT: gpu.launch
// OFF: return
func.func @bn_statistics(%x: memref<64x26x26x32xf32>, %s: memref<32xf32>, %q: memref<32xf64>) {
  linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, h, w, c)>, affine_map<(n, h, w, c) -> (c)>, affine_map<(n, h, w, c) -> (c)>],
                  iterator_types = ["reduction", "reduction", "reduction", "parallel"]}
      ins(%x : memref<64x26x26x32xf32>) outs(%s, %q : memref<32xf32>, memref<32xf64>) {
  ^bb0(%in: f32, %acc: f32, %acc2: f64):
    %a = arith.addf %in, %acc : f32
    %e = arith.extf %in : f32 to f64
    %m = arith.mulf %e, %e : f64
    %b = arith.addf %acc2, %m : f64
    linalg.yield %a, %b : f32, f64
  }
  return
}

// -----

// A filter gradient as dlc writes it (a convolution of the transposed
// input with the output gradient, the batch as channels): 288 outputs,
// 43264 iterations each. The window loop KH (26) is split whole and KW
// in 13 chunks of 2: the input's index oh + kh stays right, since only the
// loop bounds change.
// CHECK-LABEL: func.func @filter_gradient
// CHECK: memref.alloc() : memref<338x1x3x3x32xf32>
// CHECK: function(@filter_gradient_conv_2d_nhwc_hwcf_partials)
// CHECK: memref.subview
// CHECK-SAME: memref<338x1x3x3x32xf32> to memref<1x3x3x32xf32, strided<[288, 96, 32, 1], offset: ?>>
// CHECK: function(@filter_gradient_generic_combine)
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c338
func.func @filter_gradient(%x: memref<1x28x28x64xf32>, %dy: memref<26x26x64x32xf32>, %dw: memref<1x3x3x32xf32>) {
  linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %dy : memref<1x28x28x64xf32>, memref<26x26x64x32xf32>) outs(%dw : memref<1x3x3x32xf32>)
  return
}

// -----

// Not split: an arg-max (its index output is not a plain reduction), a
// reduction short enough for one thread (64 iterations), and a reduction
// with outputs enough for the GPU (a 256x512 matmul over 64).
// CHECK-LABEL: func.func @not_split
// CHECK-NOT: memref.alloc()
// CHECK-NOT: partials
// CHECK: return
func.func @not_split(%x: memref<16x1000xf32>, %m: memref<16xf32>, %i: memref<16xi32>,
                     %v: memref<64xf32>, %s: memref<f32>,
                     %a: memref<256x64xf32>, %b: memref<64x512xf32>, %c: memref<256x512xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<16x1000xf32>) outs(%m, %i : memref<16xf32>, memref<16xi32>) {
  ^bb0(%in: f32, %max: f32, %idx: i32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %gt = arith.cmpf ogt, %in, %max : f32
    %nm = arith.select %gt, %in, %max : f32
    %ni = arith.select %gt, %ji, %idx : i32
    linalg.yield %nm, %ni : f32, i32
  }
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                  iterator_types = ["reduction"]}
      ins(%v : memref<64xf32>) outs(%s : memref<f32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.addf %in, %acc : f32
    linalg.yield %r : f32
  }
  linalg.matmul ins(%a, %b : memref<256x64xf32>, memref<64x512xf32>) outs(%c : memref<256x512xf32>)
  return
}

// -----

// A fill followed by the reduction that writes its buffer is no kernel of
// its own: each thread of the (unsplit) row sum stores the fill value into
// its element first. A fill whose next op also reads the buffer as an
// input stays a kernel.
// CHECK-LABEL: func.func @fused_fill
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<16x8xf32>, %[[S:[a-z0-9]+]]: memref<16xf32>, %[[T:[a-z0-9]+]]: memref<16xf32>
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch {{.*}} function(@fused_fill_generic)
// CHECK: %[[ONE:.*]] = arith.constant 1.0{{.*}} : f32
// CHECK: scf.if
// CHECK-NEXT: memref.store %[[ONE]], %[[S]][%{{.*}}] : memref<16xf32>
// CHECK: memref.load %[[S]]
// CHECK: scf.for
// CHECK: gpu.launch {{.*}} function(@fused_fill_fill)
// CHECK: gpu.launch {{.*}} function(@fused_fill_generic{{.*}})
// CHECK-NOT: gpu.launch
func.func @fused_fill(%x: memref<16x8xf32>, %s: memref<16xf32>, %t: memref<16xf32>) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%s : memref<16xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<16x8xf32>) outs(%s : memref<16xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %r = arith.mulf %in, %acc : f32
    linalg.yield %r : f32
  }
  linalg.fill ins(%one : f32) outs(%t : memref<16xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%t : memref<16xf32>) outs(%t : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %in : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Epilogues: the bias + relu after a matmul runs in the matmul's threads
// (one kernel; each thread reads back the element it has just written,
// its allocation moved above the matmul). A consumer that writes a buffer
// the producer reads (in place over the matmul's input) stays a kernel of
// its own: other threads may still read that input.
// CHECK-LABEL: func.func @epilogue
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<256x64xf32>, %[[B:[a-z0-9]+]]: memref<64x512xf32>, %[[BIAS:[a-z0-9]+]]: memref<512xf32>, %[[C:[a-z0-9]+]]: memref<256x512xf32>
// CHECK: %[[Y:.*]] = memref.alloc() : memref<256x512xf32>
// CHECK: gpu.launch {{.*}} function(@epilogue_matmul)
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %[[C]][%{{.*}}, %{{.*}}] : memref<256x512xf32>
// CHECK: %[[V:.*]] = memref.load %[[C]][%{{.*}}, %{{.*}}]
// CHECK: memref.load %[[BIAS]][%{{.*}}]
// CHECK: %[[S:.*]] = arith.addf %[[V]], %{{.*}}
// CHECK: arith.maximumf %[[S]]
// CHECK: memref.store %{{.*}}, %[[Y]][%{{.*}}, %{{.*}}]
// CHECK: gpu.terminator
// CHECK: gpu.launch {{.*}} function(@epilogue_matmul)
// CHECK: gpu.launch {{.*}} function(@epilogue_generic)
// CHECK: memref.store %{{.*}}, %[[A]]
// CHECK-NOT: gpu.launch
// CHECK: return
// OFF-LABEL: func.func @epilogue
func.func @epilogue(%a: memref<256x64xf32>, %b: memref<64x512xf32>, %bias: memref<512xf32>, %c: memref<256x512xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.matmul ins(%a, %b : memref<256x64xf32>, memref<64x512xf32>) outs(%c : memref<256x512xf32>)
  %y = memref.alloc() : memref<256x512xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<256x512xf32>, memref<512xf32>) outs(%y : memref<256x512xf32>) {
  ^bb0(%in: f32, %bv: f32, %out: f32):
    %s = arith.addf %in, %bv : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  linalg.matmul ins(%a, %b : memref<256x64xf32>, memref<64x512xf32>) outs(%y : memref<256x512xf32>)
  %t = memref.subview %y[0, 0] [256, 64] [1, 1] : memref<256x512xf32> to memref<256x64xf32, strided<[512, 1]>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%t : memref<256x64xf32, strided<[512, 1]>>) outs(%a : memref<256x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}
