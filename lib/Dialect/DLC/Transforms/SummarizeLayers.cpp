//===- SummarizeLayers.cpp - Per-layer costs for `summary` ----------------===//
//
// dlc-summarize-layers: counts, per entry of the importer's `dlc.layers`
// module attribute, the layer's parameters and forward FLOPs (on @forward)
// and the bytes its forward values keep alive for the backward part of
// @train_step. A layer's ops are those whose location names it (the
// importer locates every op of a layer at NameLoc(layer name)); parameters
// are the arguments named `<layer>/<weight>`.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/DLC/IR/ModelAttributes.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DLCSUMMARIZELAYERS
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// The name of the layer `loc` belongs to: its first NameLoc ("" if none).
StringRef layerOf(Location loc) {
  StringRef name;
  loc->walk([&](Location l) {
    if (auto named = dyn_cast<NameLoc>(l)) {
      name = named.getName().getValue();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

int64_t elementsOf(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() ? tensor.getNumElements() : 0;
}

/// Forward FLOPs of `op` over its whole batch (see Passes.td for the rule).
int64_t flopsOf(Operation *op) {
  if (op->getNumResults() != 1 || op->getNumOperands() == 0)
    return 0;
  auto out = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!out || !out.hasStaticShape())
    return 0;
  int64_t outputs = out.getNumElements();
  StringRef name = op->getName().stripDialect();
  auto operandShape = [&](unsigned i) {
    auto t = dyn_cast<RankedTensorType>(op->getOperand(i).getType());
    return t ? t.getShape() : ArrayRef<int64_t>();
  };
  if (name == "conv2d" || name == "dense") {
    // The filter is HWCF (channels per group) or [in, out]: every output
    // element takes one multiply-add per filter element of its column.
    ArrayRef<int64_t> filter = operandShape(1);
    if (filter.empty())
      return 0;
    int64_t perOutput = 1;
    for (int64_t d : filter.drop_back())
      perOutput *= d;
    int64_t bias = op->getNumOperands() > 2 ? outputs : 0;
    return 2 * outputs * perOutput + bias;
  }
  if (name == "max_pool2d" || name == "avg_pool2d") {
    auto pool = op->getAttrOfType<DenseI64ArrayAttr>("pool_size");
    int64_t window = 1;
    if (pool)
      for (int64_t d : pool.asArrayRef())
        window *= d;
    return outputs * window;
  }
  if (name == "global_avg_pool")
    return elementsOf(op->getOperand(0).getType());
  if (name == "batch_norm" || name == "batch_norm_train")
    return 2 * outputs;
  if (name == "softmax")
    return 3 * outputs;
  if (name == "relu" || name == "leaky_relu" || name == "sigmoid" ||
      name == "tanh" || name == "add" || name == "bias_add")
    return outputs;
  // Data movement (flatten, reshape, concat), dropout (the identity at
  // inference) and augmentation count nothing.
  return 0;
}

/// Bytes of the values `step` defines before its loss and reads after it,
/// by layer.
llvm::StringMap<int64_t> keptBytes(func::FuncOp step) {
  llvm::StringMap<int64_t> bytes;
  Operation *loss = nullptr;
  auto ret = cast<func::ReturnOp>(step.getBody().front().getTerminator());
  for (unsigned i = 0; i < step.getNumResults(); ++i)
    if (auto role = step.getResultAttrOfType<StringAttr>(i, attr::kRole))
      if (role.getValue() == "loss")
        loss = ret.getOperand(i).getDefiningOp();
  if (!loss || loss->getBlock() != &step.getBody().front())
    return bytes;
  for (Operation &op : step.getBody().front()) {
    if (&op == loss)
      break;
    for (Value v : op.getResults()) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      if (!type || !type.hasStaticShape())
        continue;
      bool usedAfter = llvm::any_of(v.getUsers(), [&](Operation *user) {
        Operation *inBlock =
            step.getBody().front().findAncestorOpInBlock(*user);
        return inBlock && !isa<func::ReturnOp>(inBlock) &&
               loss->isBeforeInBlock(inBlock);
      });
      if (usedAfter)
        bytes[layerOf(op.getLoc())] +=
            type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
    }
  }
  return bytes;
}

struct SummarizeLayersPass
    : public dlc::impl::DLCSummarizeLayersBase<SummarizeLayersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto layers = module->getAttrOfType<ArrayAttr>(attr::kLayers);
    if (!layers)
      return;
    Builder b(module.getContext());

    llvm::StringMap<int64_t> params, trainable, flops;
    bool haveForward = false;
    if (auto forward = module.lookupSymbol<func::FuncOp>("forward")) {
      haveForward = true;
      for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i) {
        auto name = forward.getArgAttrOfType<StringAttr>(i, attr::kName);
        if (!name || !name.getValue().contains('/'))
          continue;
        StringRef layer = name.getValue().split('/').first;
        int64_t n = elementsOf(forward.getArgument(i).getType());
        params[layer] += n;
        auto isTrainable =
            forward.getArgAttrOfType<BoolAttr>(i, attr::kTrainable);
        if (!isTrainable || isTrainable.getValue())
          trainable[layer] += n;
      }
      // Per sample: the batch is the leading dimension of the input.
      int64_t batch = 1;
      if (forward.getNumArguments() > 0)
        if (auto input =
                dyn_cast<RankedTensorType>(forward.getArgument(0).getType());
            input && input.getRank() > 0 && input.getDimSize(0) > 0)
          batch = input.getDimSize(0);
      forward.walk([&](Operation *op) {
        if (int64_t f = flopsOf(op))
          flops[layerOf(op->getLoc())] += f / batch;
      });
    }
    std::optional<llvm::StringMap<int64_t>> kept;
    if (auto step = module.lookupSymbol<func::FuncOp>("train_step"))
      kept = keptBytes(step);
    if (!haveForward && !kept)
      return;

    SmallVector<Attribute> updated;
    for (Attribute entry : layers) {
      auto dict = dyn_cast<DictionaryAttr>(entry);
      auto name = dict ? dict.getAs<StringAttr>("name") : StringAttr();
      if (!name) {
        module.emitError("dlc.layers: an entry without a name: ") << entry;
        return signalPassFailure();
      }
      NamedAttrList attrs(dict);
      if (haveForward) {
        attrs.set("params", b.getI64IntegerAttr(params.lookup(name)));
        attrs.set("trainable_params",
                  b.getI64IntegerAttr(trainable.lookup(name)));
        attrs.set("flops", b.getI64IntegerAttr(flops.lookup(name)));
      }
      if (kept)
        attrs.set("kept_bytes", b.getI64IntegerAttr(kept->lookup(name)));
      updated.push_back(attrs.getDictionary(module.getContext()));
    }
    module->setAttr(attr::kLayers, b.getArrayAttr(updated));
  }
};

} // namespace
