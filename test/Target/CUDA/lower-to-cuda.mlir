// RUN: dlc-opt %s --dlc-lower-to-cuda=stop-after-outlining | FileCheck %s --check-prefix=GPU
// RUN: dlc-opt %s --dlc-lower-to-cuda | FileCheck %s --check-prefix=HOST
// RUN: dlc-opt %s --dlc-lower-to-cuda=kernel-modules=2 | FileCheck %s --check-prefix=TWO

// A step with a scalar argument: y = x * lr and sum(y), in place.
module @m attributes {dlc.model = {functions = [{name = "step", args = [
    {name = "x", role = "input", type = tensor<64x8xf32>},
    {name = "learning_rate", role = "learning_rate", type = f32}],
  results = [{name = "loss", role = "loss", type = tensor<f32>}]}],
  name = "m", settings = "{}"}} {
  func.func @step(%x: tensor<64x8xf32>, %lr: f32) -> tensor<f32> {
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<64x8xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%x : tensor<64x8xf32>) outs(%e : tensor<64x8xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.mulf %in, %lr : f32
      linalg.yield %m : f32
    } -> tensor<64x8xf32>
    %s0 = tensor.empty() : tensor<f32>
    %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<f32>) -> tensor<f32>
    %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
        ins(%y : tensor<64x8xf32>) outs(%s1 : tensor<f32>) {
    ^bb0(%in: f32, %acc: f32):
      %a = arith.addf %in, %acc : f32
      linalg.yield %a : f32
    } -> tensor<f32>
    return %s : tensor<f32>
  }
}

// The scalar is a rank-0 buffer, the result an out-parameter. The scale
// is fused into the sum (elementwise producer, one use), the fill into the
// kernel that writes its buffer; the sum is split into 8 partials of 64
// elements and their combine in one thread: two kernels in one
// gpu.module, the host allocates and frees the partials and only launches.
// GPU-LABEL: func.func @step(
// GPU-SAME: %[[X:[a-z0-9]+]]: memref<64x8xf32>
// GPU-SAME: %[[LR:[a-z0-9]+]]: memref<f32>
// GPU-SAME: %[[OUT:[a-z0-9]+]]: memref<f32>
// GPU: %[[PART:.*]] = memref.alloc() : memref<8xf32>
// GPU: gpu.launch_func @dlc_kernels::@[[K0:step_generic_partials]] blocks in (%{{.*}}, %{{.*}}, %{{.*}}) threads in (%c8, %{{.*}}, %{{.*}}) args(%[[LR]] : memref<f32>, %[[PART]] : memref<8xf32>, %[[X]] : memref<64x8xf32>)
// GPU: gpu.launch_func @dlc_kernels::@step_generic_combine {{.*}} args(%[[OUT]] : memref<f32>, %[[PART]] : memref<8xf32>)
// GPU: memref.dealloc %[[PART]]
// GPU: gpu.module @dlc_kernels
// GPU: gpu.func @[[K0]]({{.*}}) kernel
// GPU-SAME: known_block_size = array<i32: 8, 1, 1>
// GPU: memref.load %{{.*}}[] : memref<f32>
// GPU: arith.mulf
// GPU: arith.addf
// GPU: gpu.func @step_generic_combine
// GPU: memref.store %{{.*}}, %{{.*}}[] : memref<f32>
// GPU-NOT: gpu.func

// The host side: the table says the scalar is in device memory, the
// temporary goes through the runtime's allocator, launches through
// dlc_cuda_launch with the embedded PTX.
// HOST: llvm.func @dlc_cuda_launch(!llvm.ptr, !llvm.ptr, !llvm.ptr, i64, i64, i64, i64, i64, i64, i32, !llvm.ptr)
// HOST-LABEL: llvm.func @step(
// HOST: llvm.call @_mlir_memref_to_llvm_alloc
// HOST-COUNT-2: llvm.call @dlc_cuda_launch
// HOST: llvm.call @_mlir_memref_to_llvm_free
// HOST-NOT: gpu.
// HOST: llvm.mlir.global private constant @dlc_cuda_ptx("//{{.*}}.target sm_80{{.*}}.visible .entry step_generic_partials(
// HOST: llvm.mlir.global private constant @dlc_cuda_image()
// The learning rate entry: rank -1, flags DLC_TENSOR_DEVICE_SCALAR (2).
// HOST: llvm.mlir.global private constant @dlc_args_step()
// HOST: llvm.mlir.constant(2 : i32)
// HOST: llvm.mlir.global external constant @dlc_model()

// kernel-modules=2: the two kernels in two modules, serialized side by
// side, one image each (PTX of its own), each launch with its kernel's.
// TWO-DAG: llvm.mlir.global private constant @dlc_cuda_ptx_dlc_kernels_0("//{{.*}}.version 8.0
// TWO-DAG: llvm.mlir.global private constant @dlc_cuda_ptx_dlc_kernels_1("//{{.*}}.version 8.0
// TWO-DAG: llvm.mlir.global private constant @dlc_cuda_image_dlc_kernels_0()
// TWO-DAG: llvm.mlir.global private constant @dlc_cuda_image_dlc_kernels_1()
// TWO-NOT: @dlc_cuda_image(
