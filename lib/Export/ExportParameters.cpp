//===- ExportParameters.cpp - @forward's weights for the exporters --------===//

#include "ExportParameters.h"

#include "dlc/Import/Import.h"
#include "dlc/Import/Onnx.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::dlc;

std::string exporting::parameterName(func::FuncOp forward, Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    if (auto name = forward.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                         attrs::kName))
      return name.str();
  return "";
}

FailureOr<std::vector<float>> exporting::parameterData(func::FuncOp forward,
                                                       Value v,
                                                       const WeightMap &weights,
                                                       Location loc,
                                                       StringRef format) {
  int64_t n = 1;
  for (int64_t d : dimsOf(v))
    n *= d;
  auto error = [&]() { return emitError(loc) << format << ": "; };
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    if (arg.getArgNumber() == 0)
      return error() << "the model input is used as a weight", failure();
    std::string name = parameterName(forward, v);
    auto it = weights.find(name);
    if (it != weights.end()) {
      if (int64_t(it->second.size()) != n)
        return error() << "the checkpoint's '" << name << "' has "
                       << it->second.size() << " values, the model " << n,
               failure();
      return it->second;
    }
    if (auto init = forward.getArgAttrOfType<DenseElementsAttr>(
            arg.getArgNumber(), kInitialValueAttr))
      return std::vector<float>(init.getValues<float>().begin(),
                                init.getValues<float>().end());
    return error() << "no weights for '" << name << "' (give --checkpoint)",
           failure();
  }
  if (auto cst = v.getDefiningOp<arith::ConstantOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue());
        dense && dense.getElementType().isF32())
      return std::vector<float>(dense.getValues<float>().begin(),
                                dense.getValues<float>().end());
  return error() << "a weight that is computed, not a parameter", failure();
}

std::vector<float> exporting::transposed(ArrayRef<float> data,
                                         ArrayRef<int64_t> shape,
                                         ArrayRef<int64_t> perm) {
  int64_t rank = shape.size();
  Shape strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  std::vector<float> out(data.size());
  Shape index(rank, 0);
  for (size_t k = 0; k < data.size(); ++k) {
    int64_t src = 0;
    for (int64_t i = 0; i < rank; ++i)
      src += index[i] * strides[perm[i]];
    out[k] = data[src];
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < shape[perm[i]])
        break;
      index[i] = 0;
    }
  }
  return out;
}
