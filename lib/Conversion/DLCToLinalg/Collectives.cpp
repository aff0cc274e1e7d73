//===- Collectives.cpp - Lower dlc collectives to runtime calls ----------===//
//
// dlc.all_reduce packs its bucket into one buffer, calls the runtime
// (dlc_rt_all_reduce_f32 in include/dlc/Runtime/Communicator.h, which
// reduces it in place across the ranks) and reads the results back:
//
//   %buf = memref.alloc() : memref<Nxf32>
//   bufferization.materialize_in_destination %g_i (flattened) in
//       restrict writable (subview %buf[offset_i][n_i][1])      (per operand)
//   func.call @dlc_rt_all_reduce_f32(cast %buf, reduction, bucket)
//   %t = bufferization.to_tensor %buf restrict
//   %r_i = reshape (extract_slice %t[offset_i][n_i][1])        (per result)
//
// The buffer is the communication buffer: one copy in and one out per
// gradient, whatever the ranks. The call takes the expanded descriptor of
// memref<?xf32> (allocated, aligned, offset, size, stride), so one C
// function serves every bucket.
//
// dlc.all_reduce_start / dlc.all_reduce_wait split the same sequence: the
// packing and dlc_rt_all_reduce_start_f32(cast %buf, reduction, bucket) at
// the start, dlc_rt_all_reduce_wait_f32(cast %buf, bucket) and the reading
// back at the wait. The wait passes the buffer again: the runtime checks it
// is the one started, and the buffer is used until the wait, so that
// nothing (the CPU workspace planner in particular) reuses its memory while
// the communication thread may still write it.
//
//===----------------------------------------------------------------------===//

#include "Collectives.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::dlc;

/// The runtime entry points (Communicator.h).
static constexpr llvm::StringLiteral kAllReduceFn = "dlc_rt_all_reduce_f32";
/// Synchronized batch norm's statistics, and the sample offset.
static constexpr llvm::StringLiteral kAllReduceF64Fn = "dlc_rt_all_reduce_f64";
static constexpr llvm::StringLiteral kSampleOffsetFn = "dlc_rt_sample_offset";
/// The function attributes dlc-build-train-step sets on @train_step.
static constexpr llvm::StringLiteral kSyncBatchNormAttr = "dlc.sync_batch_norm";
static constexpr llvm::StringLiteral kDataParallelAttr = "dlc.data_parallel";
static constexpr llvm::StringLiteral kStartFn = "dlc_rt_all_reduce_start_f32";
static constexpr llvm::StringLiteral kWaitFn = "dlc_rt_all_reduce_wait_f32";

namespace {

/// All dimensions of a rank-`rank` tensor in one group (rank >= 1).
SmallVector<ReassociationIndices> flatGroups(int64_t rank) {
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return {all};
}

/// `value` as a rank-1 tensor of its elements, row-major.
Value flatten(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto flat =
      RankedTensorType::get({type.getNumElements()}, type.getElementType());
  if (type.getRank() == 1)
    return value;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, flat, value,
                                         ArrayRef<ReassociationIndices>{});
  return tensor::CollapseShapeOp::create(b, loc, flat, value,
                                         flatGroups(type.getRank()));
}

/// The inverse of flatten: `flat` reshaped to `type`.
Value unflatten(OpBuilder &b, Location loc, Value flat, RankedTensorType type) {
  if (type.getRank() == 1)
    return flat;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, flat,
                                           ArrayRef<ReassociationIndices>{});
  return tensor::ExpandShapeOp::create(b, loc, type, flat,
                                       flatGroups(type.getRank()));
}

/// Declares the runtime function `name`(memref<?xf32>, `extra`...) in
/// `module` once.
func::FuncOp declare(OpBuilder &b, ModuleOp module, StringRef name,
                     ArrayRef<Type> extra) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(name))
    return fn;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  SmallVector<Type> inputs{
      MemRefType::get({ShapedType::kDynamic}, b.getF32Type())};
  llvm::append_range(inputs, extra);
  auto fn = func::FuncOp::create(b, module.getLoc(), name,
                                 b.getFunctionType(inputs, {}));
  fn.setPrivate();
  return fn;
}

/// A bucket packed into its communication buffer.
struct Packed {
  Value buffer;  // memref<Nxf32>
  Value dynamic; // the same as memref<?xf32>, for the calls
  SmallVector<std::pair<int64_t, int64_t>> spans;
};

/// Allocates the bucket's buffer before the builder's insertion point and
/// copies `inputs` into it, flattened, in order.
Packed pack(IRRewriter &rewriter, Location loc, ValueRange inputs) {
  Type f32 = rewriter.getF32Type();
  int64_t total = 0;
  for (Value input : inputs)
    total += cast<RankedTensorType>(input.getType()).getNumElements();
  Packed packed;
  packed.buffer =
      memref::AllocOp::create(rewriter, loc, MemRefType::get({total}, f32),
                              rewriter.getI64IntegerAttr(64));
  auto index = [&](int64_t v) -> OpFoldResult {
    return rewriter.getIndexAttr(v);
  };
  int64_t offset = 0;
  for (Value input : inputs) {
    int64_t n = cast<RankedTensorType>(input.getType()).getNumElements();
    Value slot = memref::SubViewOp::create(
        rewriter, loc, packed.buffer, ArrayRef<OpFoldResult>{index(offset)},
        ArrayRef<OpFoldResult>{index(n)}, ArrayRef<OpFoldResult>{index(1)});
    auto copy = bufferization::MaterializeInDestinationOp::create(
        rewriter, loc, flatten(rewriter, loc, input), slot);
    copy.setRestrict(true);
    copy.setWritable(true);
    packed.spans.push_back({offset, n});
    offset += n;
  }
  packed.dynamic = memref::CastOp::create(
      rewriter, loc, MemRefType::get({ShapedType::kDynamic}, f32),
      packed.buffer);
  return packed;
}

/// Reads the reduced buffer back as tensors of `types`.
SmallVector<Value> unpack(IRRewriter &rewriter, Location loc,
                          const Packed &packed, TypeRange types) {
  auto bufferType = cast<MemRefType>(packed.buffer.getType());
  Value reduced = bufferization::ToTensorOp::create(
      rewriter, loc,
      RankedTensorType::get(bufferType.getShape(), rewriter.getF32Type()),
      packed.buffer, /*restrict=*/true, /*writable=*/false);
  auto index = [&](int64_t v) -> OpFoldResult {
    return rewriter.getIndexAttr(v);
  };
  SmallVector<Value> results;
  for (auto [span, type] : llvm::zip(packed.spans, types)) {
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, reduced, ArrayRef<OpFoldResult>{index(span.first)},
        ArrayRef<OpFoldResult>{index(span.second)},
        ArrayRef<OpFoldResult>{index(1)});
    results.push_back(
        unflatten(rewriter, loc, slice, cast<RankedTensorType>(type)));
  }
  return results;
}

Value i32Constant(OpBuilder &b, Location loc, int32_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
}
Value i64Constant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
}

/// Rewrites one all_reduce as the file header shows.
void lowerAllReduce(AllReduceOp op, ModuleOp module) {
  IRRewriter rewriter(op);
  Location loc = op.getLoc();
  func::FuncOp callee = declare(rewriter, module, kAllReduceFn,
                                {rewriter.getI32Type(), rewriter.getI64Type()});
  rewriter.setInsertionPoint(op);
  Packed packed = pack(rewriter, loc, op.getInputs());
  Value reduction =
      i32Constant(rewriter, loc, static_cast<int32_t>(op.getReduction()));
  Value bucket = i64Constant(rewriter, loc, op.getBucket());
  func::CallOp::create(rewriter, loc, callee,
                       ValueRange{packed.dynamic, reduction, bucket});
  rewriter.replaceOp(op, unpack(rewriter, loc, packed, op.getResultTypes()));
}

/// Rewrites one all_reduce_start and its wait.
void lowerStartAndWait(AllReduceStartOp start, ModuleOp module) {
  IRRewriter rewriter(start);
  Location loc = start.getLoc();
  func::FuncOp startFn =
      declare(rewriter, module, kStartFn,
              {rewriter.getI32Type(), rewriter.getI64Type()});
  func::FuncOp waitFn =
      declare(rewriter, module, kWaitFn, {rewriter.getI64Type()});
  // The verifier guarantees one wait taking every result.
  auto wait = cast<AllReduceWaitOp>(*start->getUsers().begin());

  rewriter.setInsertionPoint(start);
  Packed packed = pack(rewriter, loc, start.getInputs());
  Value reduction =
      i32Constant(rewriter, loc, static_cast<int32_t>(start.getReduction()));
  Value bucket = i64Constant(rewriter, loc, start.getBucket());
  func::CallOp::create(rewriter, loc, startFn,
                       ValueRange{packed.dynamic, reduction, bucket});

  rewriter.setInsertionPoint(wait);
  Value waitBucket = i64Constant(rewriter, wait.getLoc(), start.getBucket());
  func::CallOp::create(rewriter, wait.getLoc(), waitFn,
                       ValueRange{packed.dynamic, waitBucket});
  rewriter.replaceOp(
      wait, unpack(rewriter, wait.getLoc(), packed, wait.getResultTypes()));
  rewriter.eraseOp(start);
}

} // namespace

/// Declares `name` : `type` in `module` once (private).
static void declareRuntimeFunction(ModuleOp module, StringRef name,
                                   FunctionType type) {
  if (module.lookupSymbol<func::FuncOp>(name))
    return;
  OpBuilder b(module.getContext());
  b.setInsertionPointToStart(module.getBody());
  func::FuncOp::create(b, module.getLoc(), name, type).setPrivate();
}

bool lowering::synchronizesBatchNorm(Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  return fn && fn->hasAttr(kSyncBatchNormAttr);
}

SmallVector<Value> lowering::buildStatisticsAllReduce(OpBuilder &b,
                                                      Location loc,
                                                      ValueRange sums) {
  // As lowerAllReduce, for f64 vectors: pack, reduce in place, unpack.
  Type f64 = b.getF64Type();
  int64_t total = 0;
  for (Value sum : sums)
    total += cast<RankedTensorType>(sum.getType()).getNumElements();
  auto index = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
  Value buffer = memref::AllocOp::create(b, loc, MemRefType::get({total}, f64),
                                         b.getI64IntegerAttr(64));
  SmallVector<std::pair<int64_t, int64_t>> spans;
  int64_t offset = 0;
  for (Value sum : sums) {
    int64_t n = cast<RankedTensorType>(sum.getType()).getNumElements();
    Value slot = memref::SubViewOp::create(
        b, loc, buffer, ArrayRef<OpFoldResult>{index(offset)},
        ArrayRef<OpFoldResult>{index(n)}, ArrayRef<OpFoldResult>{index(1)});
    auto copy =
        bufferization::MaterializeInDestinationOp::create(b, loc, sum, slot);
    copy.setRestrict(true);
    copy.setWritable(true);
    spans.push_back({offset, n});
    offset += n;
  }
  // Numbered by the calls already built in the function (for messages).
  int64_t calls = 0;
  Operation *parent = b.getInsertionBlock()->getParentOp();
  auto fn = dyn_cast<func::FuncOp>(parent);
  if (!fn)
    fn = parent->getParentOfType<func::FuncOp>();
  if (fn)
    fn.walk([&](func::CallOp call) {
      calls += call.getCallee() == kAllReduceF64Fn;
    });
  Value dynamic = memref::CastOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, f64), buffer);
  Value reduction = arith::ConstantOp::create(
      b, loc, b.getI32IntegerAttr(static_cast<int32_t>(ReductionKind::mean)));
  Value layer = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(calls));
  func::CallOp::create(b, loc, kAllReduceF64Fn, TypeRange{},
                       ValueRange{dynamic, reduction, layer});
  Value reduced = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get({total}, f64), buffer,
      /*restrict=*/true, /*writable=*/false);
  SmallVector<Value> results;
  for (auto [span, sum] : llvm::zip(spans, sums))
    results.push_back(tensor::ExtractSliceOp::create(
        b, loc, cast<RankedTensorType>(sum.getType()), reduced,
        ArrayRef<OpFoldResult>{index(span.first)},
        ArrayRef<OpFoldResult>{index(span.second)},
        ArrayRef<OpFoldResult>{index(1)}));
  return results;
}

Value lowering::buildSampleOffset(OpBuilder &b, Location loc, Operation *op) {
  auto fn = op->getParentOfType<func::FuncOp>();
  if (!fn || !fn->hasAttr(kDataParallelAttr))
    return nullptr;
  Value offset = func::CallOp::create(b, loc, kSampleOffsetFn,
                                      TypeRange{b.getI64Type()}, ValueRange{})
                     .getResult(0);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), offset);
}

void mlir::dlc::lowerCollectives(ModuleOp module) {
  // The runtime functions the batch-norm and random lowerings call.
  MLIRContext *ctx = module.getContext();
  bool sync = false, dataParallel = false;
  for (auto fn : module.getOps<func::FuncOp>()) {
    sync |= fn->hasAttr(kSyncBatchNormAttr);
    dataParallel |= fn->hasAttr(kDataParallelAttr);
  }
  Builder b(ctx);
  if (sync)
    declareRuntimeFunction(
        module, kAllReduceF64Fn,
        b.getFunctionType(
            {MemRefType::get({ShapedType::kDynamic}, b.getF64Type()),
             b.getI32Type(), b.getI64Type()},
            {}));
  if (dataParallel)
    declareRuntimeFunction(module, kSampleOffsetFn,
                           b.getFunctionType({}, {b.getI64Type()}));

  // Not a conversion pattern: the lowering creates memref and
  // bufferization ops next to the tensors, and the module's declaration.
  SmallVector<AllReduceOp> ops;
  SmallVector<AllReduceStartOp> starts;
  module.walk([&](Operation *op) {
    if (auto allReduce = dyn_cast<AllReduceOp>(op))
      ops.push_back(allReduce);
    else if (auto start = dyn_cast<AllReduceStartOp>(op))
      starts.push_back(start);
  });
  for (AllReduceOp op : ops)
    lowerAllReduce(op, module);
  for (AllReduceStartOp start : starts)
    lowerStartAndWait(start, module);
}
