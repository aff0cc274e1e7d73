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

def DLC_AllReduceStartOp : DLC_Op<"all_reduce_start", [
    MemoryEffects<[MemRead, MemWrite]>,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "start the all-reduce of one bucket (its results are in flight)";
  let description = [{
    The first half of an overlapped `dlc.all_reduce`: the bucket's
    communication starts here and runs while the ops that follow execute;
    `dlc.all_reduce_wait` ends it and yields the reduced tensors. The
    results of this op are the bucket *in flight*: they have the operands'
    types, but their only use is one `dlc.all_reduce_wait` that takes all
    of them, in order (verified), so no other op can read a tensor before
    its reduction is complete.

    `bucket` and `reduction` mean what they mean on `dlc.all_reduce`; the
    runtime reduces started buckets one at a time in the order they are
    started, with the same ring, so the results are bit for bit those of
    the blocking op. `dlc-insert-gradient-all-reduce{overlap}` places the
    start right after the bucket's last producer and the wait right before
    the first op that reads a reduced tensor.

    Example:
    ```mlir
    %f:2 = dlc.all_reduce_start %dk, %db {bucket = 0 : i64,
        reduction = #dlc.reduction<mean>} : tensor<3x3x1x32xf32>, tensor<32xf32>
    // ... the rest of the backward pass ...
    %g:2 = dlc.all_reduce_wait %f#0, %f#1 : tensor<3x3x1x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_F32Tensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$bucket,
                       DLC_ReductionKindAttr:$reduction);
  let results = (outs Variadic<DLC_F32Tensor>:$inFlight);
  let assemblyFormat = [{
    $inputs attr-dict `:` type($inputs)
  }];
  let hasVerifier = 1;
}

def DLC_AllReduceWaitOp : DLC_Op<"all_reduce_wait", [
    MemoryEffects<[MemRead, MemWrite]>,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "wait for a started all-reduce and yield the reduced tensors";
  let description = [{
    The second half of an overlapped all-reduce: takes every result of one
    `dlc.all_reduce_start`, in order, and returns the reduced tensors once
    the bucket's communication is complete (at once with one rank). The
    runtime keeps the bucket's buffer untouched from the start to here, so
    this op also marks the end of the buffer's life.

    Example:
    ```mlir
    %g:2 = dlc.all_reduce_wait %f#0, %f#1 : tensor<3x3x1x32xf32>, tensor<32xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_F32Tensor>:$inFlight);
  let results = (outs Variadic<DLC_F32Tensor>:$results);
  let assemblyFormat = [{
    $inFlight attr-dict `:` type($inFlight)
  }];
  let extraClassDeclaration = [{
    /// The op that started this bucket.
    AllReduceStartOp getStart();
  }];
  let hasVerifier = 1;
}

#endif // DLC_DIALECT_DLC_IR_DLCCOLLECTIVEOPS_TD
