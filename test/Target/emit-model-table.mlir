// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-emit-model-table | FileCheck %s
// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-emit-model-table="device=cuda" | FileCheck %s --check-prefix=CUDA

// The description becomes @dlc_model (ABI version 1, device 0 = cpu) and a
// packed entry point that loads each parameter of the C interface from
// args[i] and calls it. The attribute is consumed, and so are the
// dlc.result ties left on the C interface.

// CHECK-NOT: dlc.model
// CHECK-LABEL: llvm.func @_mlir_ciface_predict(
// CHECK-NOT: dlc.result
// CHECK: llvm.func @dlc_packed_predict(%[[ARGS:.*]]: !llvm.ptr)
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[ADDR0:.*]] = llvm.load %[[SLOT0]] : !llvm.ptr -> !llvm.ptr
// CHECK: %[[W:.*]] = llvm.load %[[ADDR0]] : !llvm.ptr -> !llvm.ptr
// CHECK: llvm.getelementptr %[[ARGS]][1]
// CHECK: %[[STEP:.*]] = llvm.load %{{.*}} : !llvm.ptr -> i64
// CHECK: llvm.getelementptr %[[ARGS]][2]
// CHECK: llvm.call @_mlir_ciface_predict(%[[W]], %[[STEP]], %{{.*}})
// CHECK: llvm.mlir.global private unnamed_addr constant @dlc_str("w\00")
// CHECK: llvm.mlir.global private constant @dlc_args_predict() {{.*}} : !llvm.array<2 x struct<"dlc_tensor_info", (ptr, ptr, ptr, i32, i32, array<4 x i64>, i32)>>
// CHECK: llvm.mlir.global private constant @dlc_functions() {{.*}} : !llvm.array<1 x struct<"dlc_function_info", (ptr, ptr, i32, i32, ptr, ptr)>>
// CHECK-LABEL: llvm.mlir.global external constant @dlc_model()
// CHECK: %[[VERSION:.*]] = llvm.mlir.constant(1 : i32) : i32
// CHECK: %[[DEVICE:.*]] = llvm.mlir.constant(0 : i32) : i32
// CHECK: llvm.insertvalue %[[VERSION]], %{{.*}}[0]
// CHECK: llvm.insertvalue %[[DEVICE]], %{{.*}}[1]
// CHECK: : !llvm.struct<"dlc_model_info", (i32, i32, ptr, ptr, i32, ptr)>

// CUDA-LABEL: llvm.mlir.global external constant @dlc_model()
// CUDA: llvm.mlir.constant(1 : i32) : i32
// CUDA: llvm.mlir.constant(1 : i32) : i32
module attributes {dlc.model = {name = "m", settings = "{}", functions = [
    {name = "predict",
     args = [{name = "w", role = "param", type = tensor<4xf32>, in_place},
             {name = "step", role = "step", type = i64}],
     results = [{name = "logits", role = "logits", type = tensor<2x2xf32>}]}]}} {
  llvm.func @_mlir_ciface_predict(%w: !llvm.ptr {dlc.result = 0 : i64}, %s: i64, %out: !llvm.ptr) {
    llvm.return
  }
}

// -----

// A module without a description gets no table.
// CHECK-LABEL: llvm.func @kernel
// CHECK-NOT: dlc_model
module {
  llvm.func @kernel() {
    llvm.return
  }
}

// -----

// expected-error @below {{_mlir_ciface_predict has 1 parameters but the model table describes 2}}
module attributes {dlc.model = {name = "m", settings = "{}", functions = [
    {name = "predict", args = [{name = "x", role = "input", type = tensor<1x1x1x1xf32>}],
     results = [{name = "logits", role = "logits", type = tensor<1x1xf32>}]}]}} {
  llvm.func @_mlir_ciface_predict(%x: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @below {{no C entry point _mlir_ciface_eval_step for the model table}}
module attributes {dlc.model = {name = "m", settings = "{}", functions = [
    {name = "eval_step", args = [], results = []}]}} {
}

// -----

// expected-error @below {{dlc.model: no known role}}
module attributes {dlc.model = {name = "m", settings = "{}", functions = [
    {name = "predict", args = [{name = "x", role = "weights", type = tensor<1xf32>}], results = []}]}} {
  llvm.func @_mlir_ciface_predict(%x: !llvm.ptr) {
    llvm.return
  }
}
