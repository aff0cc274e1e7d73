//===- DLCCollectiveOps.td - dlc collectives across ranks --*- tablegen -*-===//
//
// Data-parallel training: ops whose result depends on every rank of the
// job. They lower to calls of the runtime's communicator
// (include/dlc/Runtime/Communicator.h), an MPI ring on the CPU; a CUDA
// target would lower the same op to NCCL.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCCOLLECTIVEOPS_TD
#define DLC_DIALECT_DLC_IR_DLCCOLLECTIVEOPS_TD

def DLC_ReductionKind : I32EnumAttr<"ReductionKind",
    "how an all-reduce combines the ranks' values", [
    I32EnumAttrCase<"sum", 0>,
    I32EnumAttrCase<"mean", 1>
  ]> {
  let cppNamespace = "::mlir::dlc";
  let genSpecializedAttr = 0;
}
def DLC_ReductionKindAttr : EnumAttr<DLC_Dialect, DLC_ReductionKind,
                                     "reduction"> {
  let assemblyFormat = "`<` $value `>`";
}

def DLC_AllReduceOp : DLC_Op<"all_reduce", [
    MemoryEffects<[MemRead, MemWrite]>,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "element-wise sum or mean of tensors over all ranks (one bucket)";
  let description = [{
    Result `i` is the sum (or mean) of operand `i` over every rank of the
    job; with one rank it is the operand. The operands form one *bucket*:
    they are reduced by one collective call, packed into one buffer in
    operand order, so that small gradients do not each pay a message's
    latency. `bucket` numbers the buckets of a step in the order they are
    issued (every rank issues the same buckets in the same order: a
    collective is matched by its position, not by name).

    The op has memory effects so that it is neither dropped nor reordered
    with the other collectives; `dlc-insert-gradient-all-reduce` places
    each bucket right after the last op that produces one of its tensors,
    so that its communication can start while the rest of the backward
    pass runs. The reduction order is the runtime's and depends only on
    the number of ranks: runs with the same number are bit-identical.

    Example:
    ```mlir
    %g0, %g1 = dlc.all_reduce %dk, %db {bucket = 0 : i64,
        reduction = #dlc.reduction<mean>} : tensor<3x3x1x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_F32Tensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$bucket,
                       DLC_ReductionKindAttr:$reduction);
  let results = (outs Variadic<DLC_F32Tensor>:$results);
  let assemblyFormat = [{
    $inputs attr-dict `:` type($inputs)
  }];
  let hasVerifier = 1;
}

#endif // DLC_DIALECT_DLC_IR_DLCCOLLECTIVEOPS_TD
