// The cnn_bn network of examples/fashion_mnist (Keras mnist_cnn with batch
// normalization) written directly in the dlc dialect, batch 64, inference
// form (running statistics, dropout without a key). The importer produces
// this function from cnn_bn.yaml; this hand-written copy documents the IR.
func.func @forward(
    %x: tensor<64x28x28x1xf32>,
    %k1: tensor<3x3x1x32xf32> {dlc.name = "conv2d/kernel"},
    %g1: tensor<32xf32> {dlc.name = "batch_normalization/gamma"},
    %b1: tensor<32xf32> {dlc.name = "batch_normalization/beta"},
    %m1: tensor<32xf32> {dlc.name = "batch_normalization/moving_mean"},
    %v1: tensor<32xf32> {dlc.name = "batch_normalization/moving_variance"},
    %k2: tensor<3x3x32x64xf32> {dlc.name = "conv2d_1/kernel"},
    %g2: tensor<64xf32> {dlc.name = "batch_normalization_1/gamma"},
    %b2: tensor<64xf32> {dlc.name = "batch_normalization_1/beta"},
    %m2: tensor<64xf32> {dlc.name = "batch_normalization_1/moving_mean"},
    %v2: tensor<64xf32> {dlc.name = "batch_normalization_1/moving_variance"},
    %k3: tensor<9216x128xf32> {dlc.name = "dense/kernel"},
    %c3: tensor<128xf32> {dlc.name = "dense/bias"},
    %k4: tensor<128x10xf32> {dlc.name = "dense_1/kernel"},
    %c4: tensor<10xf32> {dlc.name = "dense_1/bias"}) -> tensor<64x10xf32> {
  %0 = dlc.conv2d %x, %k1 : (tensor<64x28x28x1xf32>, tensor<3x3x1x32xf32>) -> tensor<64x26x26x32xf32>
  %1 = dlc.batch_norm %0, %g1, %b1, %m1, %v1
      : (tensor<64x26x26x32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<64x26x26x32xf32>
  %2 = dlc.relu %1 : tensor<64x26x26x32xf32>
  %3 = dlc.conv2d %2, %k2 : (tensor<64x26x26x32xf32>, tensor<3x3x32x64xf32>) -> tensor<64x24x24x64xf32>
  %4 = dlc.batch_norm %3, %g2, %b2, %m2, %v2
      : (tensor<64x24x24x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<64x24x24x64xf32>
  %5 = dlc.relu %4 : tensor<64x24x24x64xf32>
  %6 = dlc.max_pool2d %5 {pool_size = array<i64: 2, 2>, strides = array<i64: 2, 2>}
      : (tensor<64x24x24x64xf32>) -> tensor<64x12x12x64xf32>
  %7 = dlc.dropout %6 {rate = 0.25 : f32} : (tensor<64x12x12x64xf32>) -> tensor<64x12x12x64xf32>
  %8 = dlc.flatten %7 : (tensor<64x12x12x64xf32>) -> tensor<64x9216xf32>
  %9 = dlc.dense %8, %k3, %c3 : (tensor<64x9216xf32>, tensor<9216x128xf32>, tensor<128xf32>) -> tensor<64x128xf32>
  %10 = dlc.relu %9 : tensor<64x128xf32>
  %11 = dlc.dropout %10 {rate = 0.5 : f32} : (tensor<64x128xf32>) -> tensor<64x128xf32>
  %12 = dlc.dense %11, %k4, %c4 : (tensor<64x128xf32>, tensor<128x10xf32>, tensor<10xf32>) -> tensor<64x10xf32>
  return %12 : tensor<64x10xf32>
}
