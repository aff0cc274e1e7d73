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

/// The runtime entry point (Communicator.h).
static constexpr llvm::StringLiteral kAllReduceFn = "dlc_rt_all_reduce_f32";
/// Synchronized batch norm's statistics, and the sample offset.
static constexpr llvm::StringLiteral kAllReduceF64Fn = "dlc_rt_all_reduce_f64";
static constexpr llvm::StringLiteral kSampleOffsetFn = "dlc_rt_sample_offset";
/// The function attributes dlc-build-train-step sets on @train_step.
static constexpr llvm::StringLiteral kSyncBatchNormAttr = "dlc.sync_batch_norm";
static constexpr llvm::StringLiteral kDataParallelAttr = "dlc.data_parallel";

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

/// Declares the runtime function in `module` once.
func::FuncOp declareAllReduce(OpBuilder &b, ModuleOp module) {
  if (auto fn = module.lookupSymbol<func::FuncOp>(kAllReduceFn))
    return fn;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto type = b.getFunctionType(
      {MemRefType::get({ShapedType::kDynamic}, b.getF32Type()), b.getI32Type(),
       b.getI64Type()},
      {});
  auto fn = func::FuncOp::create(b, module.getLoc(), kAllReduceFn, type);
  fn.setPrivate();
  return fn;
}

/// Rewrites one all_reduce as the file header shows.
void lowerAllReduce(AllReduceOp op, ModuleOp module) {
  IRRewriter rewriter(op);
  Location loc = op.getLoc();
  Type f32 = rewriter.getF32Type();
  int64_t total = 0;
  for (Value input : op.getInputs())
    total += cast<RankedTensorType>(input.getType()).getNumElements();

  func::FuncOp callee = declareAllReduce(rewriter, module);
  rewriter.setInsertionPoint(op);
  auto bufferType = MemRefType::get({total}, f32);
  Value buffer = memref::AllocOp::create(rewriter, loc, bufferType,
                                         rewriter.getI64IntegerAttr(64));
  auto index = [&](int64_t v) -> OpFoldResult {
    return rewriter.getIndexAttr(v);
  };
  int64_t offset = 0;
  SmallVector<std::pair<int64_t, int64_t>> spans;
  for (Value input : op.getInputs()) {
    int64_t n = cast<RankedTensorType>(input.getType()).getNumElements();
    Value slot = memref::SubViewOp::create(
        rewriter, loc, buffer, ArrayRef<OpFoldResult>{index(offset)},
        ArrayRef<OpFoldResult>{index(n)}, ArrayRef<OpFoldResult>{index(1)});
    auto copy = bufferization::MaterializeInDestinationOp::create(
        rewriter, loc, flatten(rewriter, loc, input), slot);
    copy.setRestrict(true);
    copy.setWritable(true);
    spans.push_back({offset, n});
    offset += n;
  }
  Value dynamic = memref::CastOp::create(
      rewriter, loc, MemRefType::get({ShapedType::kDynamic}, f32), buffer);
  Value reduction = arith::ConstantOp::create(
      rewriter, loc,
      rewriter.getI32IntegerAttr(static_cast<int32_t>(op.getReduction())));
  Value bucket = arith::ConstantOp::create(
      rewriter, loc, rewriter.getI64IntegerAttr(op.getBucket()));
  func::CallOp::create(rewriter, loc, callee,
                       ValueRange{dynamic, reduction, bucket});
  Value reduced = bufferization::ToTensorOp::create(
      rewriter, loc, RankedTensorType::get({total}, f32), buffer,
      /*restrict=*/true, /*writable=*/false);
  SmallVector<Value> results;
  for (auto [span, type] : llvm::zip(spans, op.getResultTypes())) {
    Value slice = tensor::ExtractSliceOp::create(
        rewriter, loc, reduced, ArrayRef<OpFoldResult>{index(span.first)},
        ArrayRef<OpFoldResult>{index(span.second)},
        ArrayRef<OpFoldResult>{index(1)});
    results.push_back(
        unflatten(rewriter, loc, slice, cast<RankedTensorType>(type)));
  }
  rewriter.replaceOp(op, results);
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
  module.walk([&](AllReduceOp op) { ops.push_back(op); });
  for (AllReduceOp op : ops)
    lowerAllReduce(op, module);
}
