//===- Passes.td - Passes every dlc target shares ----------*- tablegen -*-===//
//
// Passes on the host side of a lowered module that do not depend on which
// target computes the steps.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGET_PASSES_TD
#define DLC_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

def DLCEmitModelTable : Pass<"dlc-emit-model-table", "::mlir::ModuleOp"> {
  let summary = "Turn the `dlc.model` attribute into the runtime's model "
                "table and packed entry points (LLVM dialect)";
  let description = [{
    The last step of every target pipeline, once the step functions are in
    the LLVM dialect with their C interfaces (`_mlir_ciface_<f>`). For each
    function the `dlc.model` module attribute describes (see
    dlc-describe-model), adds

    ```mlir
    llvm.func @dlc_packed_<f>(%args: !llvm.ptr)
    ```

    which loads its i-th parameter of `_mlir_ciface_<f>` from the address
    in `args[i]` (a descriptor pointer or a scalar) and calls it, and the
    external constant `@dlc_model` of type `dlc_model_info`: ABI version,
    the `device` option, name, settings JSON, and per function its entry
    point and the name, initializer, role, dtype, rank, flags and shape of
    every argument and result, laid out as include/dlc/Runtime/ModelABI.h
    declares (C layout rules; the struct types are named after the C
    structs). The attribute is removed, and so are the `dlc.result` ties
    left on `llvm.func` arguments (the calling convention has consumed them;
    LLVM translation does not know them). A module without `dlc.model` gets
    no table.

    Errors: a described function without its C interface, or whose
    interface has a different number of parameters than the description.
  }];
  let options = [
    Option<"device", "device", "std::string", "\"cpu\"",
           "Where the entry points expect their buffers: cpu | cuda "
           "(the table's device field)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // DLC_TARGET_PASSES_TD
