//===- OnnxTensor.h - Host tensors and layouts of the ONNX importer -*- C++
//-*-//
//
// The ONNX importer keeps constants (initializers, Constant nodes and what
// it folds from them) on the host, in ONNX's row-major layout, and tracks
// for every computed value how its dlc buffer is ordered relative to the
// ONNX tensor (a Layout). This header holds both, with the host-side
// transposes and the constant folding of the shape subgraphs that
// torch.onnx.export emits (OnnxTensor.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_ONNXTENSOR_H
#define DLC_LIB_IMPORT_ONNXTENSOR_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace mlir::dlc::onnximport {

using Shape = SmallVector<int64_t, 4>;

/// The number of elements of `shape` (1 for a scalar).
int64_t numElements(ArrayRef<int64_t> shape);
/// dlc tensors hold at most 2^31 elements.
constexpr int64_t kMaxElements = int64_t(1) << 31;
/// The number of elements, or nullopt for a negative dimension or more than
/// kMaxElements (overflow included).
std::optional<int64_t> checkedNumElements(ArrayRef<int64_t> shape);

/// A constant: f32 values or integer values (int64, int32, bool, ...), row
/// major.
struct HostTensor {
  Shape shape;
  bool isInt = false;
  std::vector<float> f;
  std::vector<int64_t> i;

  int64_t size() const { return numElements(shape); }
  double at(int64_t k) const { return isInt ? double(i[k]) : double(f[k]); }
  static HostTensor ints(Shape shape, std::vector<int64_t> values);
  static HostTensor floats(Shape shape, std::vector<float> values);
};

/// Reads a TensorProto (float, double, int64, int32, bool and the small
/// integer types; raw or typed data). Returns an error message on failure.
std::string readTensorProto(const onnx::TensorProto &proto, HostTensor &out);

/// `transpose(reshape(t, base), perm)` in row-major order.
std::vector<float> permuteData(const HostTensor &t, ArrayRef<int64_t> base,
                               ArrayRef<int64_t> perm);

/// A dlc buffer holds `transpose(reshape(onnx, base), perm)`.
struct Layout {
  Shape base, perm;
  static Layout identity(ArrayRef<int64_t> shape);
  /// The dlc shape of the transposed tensor: base[perm[i]].
  Shape permutedShape() const;
  /// Whether two layouts order the elements the same way (size-1
  /// dimensions and runs of dimensions that stay together do not matter).
  bool sameOrder(const Layout &other) const;
  bool isIdentityOrder() const;
};

/// For a layout of a [N, K] tensor whose batch stays first, the ONNX column
/// of every dlc column (a permutation of 0..K-1); empty when the batch
/// does not stay first.
std::vector<int64_t> rowPermutation(const Layout &layout,
                                    ArrayRef<int64_t> shape);

/// Folds a node of the shape subgraphs torch.onnx.export emits (Shape is
/// handled by the caller) when all its inputs are constants: Constant-like
/// Gather, Unsqueeze, Squeeze, Concat, Cast, Reshape, Flatten, Slice, Add,
/// Sub, Mul, Div, Identity. `attrInts` / `attrInt` read the node's
/// attributes. Returns false when the op is not foldable here; `error` set
/// means it is foldable but invalid.
struct FoldAttrs {
  virtual ~FoldAttrs() = default;
  virtual std::optional<int64_t> getInt(StringRef name) = 0;
  virtual std::optional<SmallVector<int64_t>> getInts(StringRef name) = 0;
};
bool foldConstantNode(StringRef opType, ArrayRef<const HostTensor *> inputs,
                      FoldAttrs &attrs, HostTensor &out, std::string &error);

} // namespace mlir::dlc::onnximport

#endif // DLC_LIB_IMPORT_ONNXTENSOR_H
