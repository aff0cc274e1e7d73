// RUN: dlc-opt %s --split-input-file --verify-diagnostics --dlc-cuda-serialize-kernels | FileCheck %s
// RUN: dlc-opt %s --split-input-file --verify-diagnostics --dlc-cuda-serialize-kernels --mlir-disable-threading | FileCheck %s

// Every gpu.module becomes a gpu.binary with its PTX (format isa), in
// module order whatever the threads did; the modules are serialized side by
// side, and the result is the same without threads.
// CHECK-NOT: gpu.module
// CHECK: gpu.binary @first [#gpu.object<#nvvm.target<chip = "sm_80">, {{.*}}assembly = "{{.*}}.target sm_80{{.*}}.entry first_kernel
// CHECK: gpu.binary @second [#gpu.object<#nvvm.target<chip = "sm_80">, {{.*}}assembly = "{{.*}}.entry second_kernel
// CHECK-NOT: gpu.module

module attributes {gpu.container_module} {
  gpu.module @first [#nvvm.target<chip = "sm_80">] {
    llvm.func @first_kernel(%p: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      %c = llvm.mlir.constant(1.0 : f32) : f32
      llvm.store %c, %p : f32, !llvm.ptr
      llvm.return
    }
  }
  gpu.module @second [#nvvm.target<chip = "sm_80">] {
    llvm.func @second_kernel(%p: !llvm.ptr) attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}

// -----

// A module without a target cannot be serialized.
module attributes {gpu.container_module} {
  // expected-error @+1 {{the module has no target attributes (run nvvm-attach-target first)}}
  gpu.module @untargeted {
    llvm.func @k() attributes {gpu.kernel, nvvm.kernel} {
      llvm.return
    }
  }
}
