//===- PrepareABI.cpp - The calling convention of compiled functions ------===//
//
// Fixes what the compiled code may assume about its caller. Before
// bufferization (dlc-cpu-prepare-abi): public functions get a C entry point
// (llvm.emit_c_interface); tensor arguments are read-only unless donated
// with `bufferization.writable = true` (without this rule one-shot
// bufferization would treat every argument as writable and could clobber a
// caller's input, e.g. compute relu(x) in x); arguments tied to a result
// with `dlc.result = N` are donated and become the destination of that
// result. After bufferization (dlc-cpu-finalize-abi): tied results leave
// the signature, copied into their argument if they were not computed in
// place.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/ModelAttributes.h"
#include "dlc/Target/CPU/Passes.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUPREPAREABIPASS
#define GEN_PASS_DEF_CPUFINALIZEABIPASS
#include "dlc/Target/CPU/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// The argument attribute that ties an argument to a result.
constexpr StringLiteral kResultAttr = attr::kResult;

/// The (argument, result) pairs of `func`'s `dlc.result` attributes, or
/// failure (with a diagnostic) when one is malformed.
FailureOr<SmallVector<std::pair<unsigned, unsigned>>>
getTiedResults(func::FuncOp func) {
  SmallVector<std::pair<unsigned, unsigned>> tied;
  llvm::SmallDenseSet<unsigned> seen;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    Attribute attr = func.getArgAttr(i, kResultAttr);
    if (!attr)
      continue;
    auto index = dyn_cast<IntegerAttr>(attr);
    if (!index || index.getInt() < 0 || index.getInt() >= func.getNumResults())
      return func.emitOpError("argument #")
             << i << " has " << kResultAttr
             << " that is not the index of a result";
    unsigned result = index.getInt();
    if (func.getResultTypes()[result] != func.getArgumentTypes()[i])
      return func.emitOpError("argument #")
             << i << " and result #" << result
             << " tied by dlc.result have different types";
    if (!seen.insert(result).second)
      return func.emitOpError("result #")
             << result << " is tied to more than one argument";
    tied.emplace_back(i, result);
  }
  return tied;
}

struct CPUPrepareABIPass
    : mlir::dlc::impl::CPUPrepareABIPassBase<CPUPrepareABIPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    StringRef writable = bufferization::BufferizationDialect::kWritableAttrName;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    b.getUnitAttr());
      auto tied = getTiedResults(func);
      if (failed(tied))
        return signalPassFailure();
      for (auto [argIndex, resultIndex] : *tied) {
        unsigned arg = argIndex, result = resultIndex;
        func.setArgAttr(arg, writable, b.getBoolAttr(true));
        // Compute the result in the argument's buffer when its producer
        // writes into a fresh tensor; bufferization copies the argument
        // first if that would overwrite a value still needed.
        func.walk([&](func::ReturnOp ret) {
          Value value = ret.getOperand(result);
          auto producer = value.getDefiningOp<DestinationStyleOpInterface>();
          if (!producer)
            return;
          OpOperand *init = producer.getTiedOpOperand(cast<OpResult>(value));
          if (init && init->get().getDefiningOp<tensor::EmptyOp>() &&
              init->get().getType() == func.getArgument(arg).getType())
            init->set(func.getArgument(arg));
        });
      }
      for (auto [i, type] : llvm::enumerate(func.getArgumentTypes()))
        if (isa<TensorType>(type) && !func.getArgAttr(i, writable))
          func.setArgAttr(i, writable, b.getBoolAttr(false));
    }
  }
};

/// Drops the `dlc.*` argument and result attributes (names, roles,
/// initializers of the model's tensors, but not the `dlc.result` ties read
/// below): the runtime's table was made from them before lowering, and LLVM
/// translation would report each one as an unhandled parameter attribute.
void stripModelAttributes(func::FuncOp func) {
  auto strip = [](DictionaryAttr attrs) -> DictionaryAttr {
    if (!attrs)
      return attrs;
    SmallVector<NamedAttribute> kept;
    for (NamedAttribute attr : attrs)
      if (!attr.getName().getValue().starts_with("dlc.") ||
          attr.getName() == kResultAttr)
        kept.push_back(attr);
    return DictionaryAttr::get(attrs.getContext(), kept);
  };
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    func.setArgAttrs(i, strip(func.getArgAttrDict(i)));
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    func.setResultAttrs(i, strip(func.getResultAttrDict(i)));
}

struct CPUFinalizeABIPass
    : mlir::dlc::impl::CPUFinalizeABIPassBase<CPUFinalizeABIPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      auto tied = getTiedResults(func);
      if (failed(tied))
        return signalPassFailure();
      stripModelAttributes(func);
      if (tied->empty())
        continue;
      llvm::BitVector dropped(func.getNumResults());
      func.walk([&](func::ReturnOp ret) {
        OpBuilder b(ret);
        for (auto [arg, result] : *tied) {
          Value value = ret.getOperand(result);
          Value target = func.getArgument(arg);
          Value source = value;
          while (auto cast = source.getDefiningOp<memref::CastOp>())
            source = cast.getSource();
          if (source != target)
            memref::CopyOp::create(b, ret.getLoc(), value, target);
          dropped.set(result);
        }
        ret->eraseOperands(dropped);
      });
      if (failed(func.eraseResults(dropped)))
        return signalPassFailure();
    }
  }
};

} // namespace
