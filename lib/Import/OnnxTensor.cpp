//===- OnnxTensor.cpp - Host tensors, layouts and constant folding --------===//
//
// The host side of the ONNX importer: decoding TensorProtos, transposing
// constants into dlc's layout, comparing layouts, and folding the integer
// shape arithmetic that torch.onnx.export leaves in a graph (Shape ->
// Gather -> Unsqueeze -> Concat -> Reshape for `x.view(x.size(0), -1)`).
//
//===----------------------------------------------------------------------===//

#include "OnnxTensor.h"

#include "onnx/onnx_pb.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::dlc::onnximport;

int64_t mlir::dlc::onnximport::numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::optional<int64_t>
mlir::dlc::onnximport::checkedNumElements(ArrayRef<int64_t> shape) {
  std::optional<int64_t> n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    n = llvm::checkedMul(*n, d);
    if (!n || *n > kMaxElements)
      return std::nullopt;
  }
  return n;
}

HostTensor HostTensor::ints(Shape shape, std::vector<int64_t> values) {
  HostTensor t;
  t.shape = std::move(shape);
  t.isInt = true;
  t.i = std::move(values);
  return t;
}

HostTensor HostTensor::floats(Shape shape, std::vector<float> values) {
  HostTensor t;
  t.shape = std::move(shape);
  t.f = std::move(values);
  return t;
}

template <typename T>
static void readRaw(const std::string &raw, int64_t n, std::vector<T> &out) {
  out.resize(n);
  std::memcpy(out.data(), raw.data(), n * sizeof(T));
}

std::string mlir::dlc::onnximport::readTensorProto(const onnx::TensorProto &p,
                                                   HostTensor &out) {
  if (p.data_location() == onnx::TensorProto::EXTERNAL)
    return "its data is in an external file, which dlc does not read";
  out.shape.clear();
  for (int64_t d : p.dims()) {
    if (d < 0)
      return "it has a negative dimension";
    out.shape.push_back(d);
  }
  std::optional<int64_t> count = checkedNumElements(out.shape);
  if (!count)
    return "it has more than 2^31 elements";
  int64_t n = *count;
  const std::string &raw = p.raw_data();
  bool hasRaw = p.has_raw_data();
  auto checkRaw = [&](size_t elementSize) -> std::string {
    if (raw.size() != size_t(n) * elementSize)
      return "its raw data has " + std::to_string(raw.size()) + " bytes, not " +
             std::to_string(n * elementSize);
    return "";
  };
  auto checkCount = [&](int64_t count) -> std::string {
    if (count != n)
      return "it has " + std::to_string(count) + " values for " +
             std::to_string(n) + " elements";
    return "";
  };
  std::string err;
  switch (p.data_type()) {
  case onnx::TensorProto::FLOAT:
    out.isInt = false;
    if (hasRaw) {
      if (!(err = checkRaw(4)).empty())
        return err;
      readRaw(raw, n, out.f);
    } else {
      if (!(err = checkCount(p.float_data_size())).empty())
        return err;
      out.f.assign(p.float_data().begin(), p.float_data().end());
    }
    return "";
  case onnx::TensorProto::DOUBLE: {
    out.isInt = false;
    std::vector<double> d;
    if (hasRaw) {
      if (!(err = checkRaw(8)).empty())
        return err;
      readRaw(raw, n, d);
    } else {
      if (!(err = checkCount(p.double_data_size())).empty())
        return err;
      d.assign(p.double_data().begin(), p.double_data().end());
    }
    out.f.assign(d.begin(), d.end());
    return "";
  }
  case onnx::TensorProto::INT64:
    out.isInt = true;
    if (hasRaw) {
      if (!(err = checkRaw(8)).empty())
        return err;
      readRaw(raw, n, out.i);
    } else {
      if (!(err = checkCount(p.int64_data_size())).empty())
        return err;
      out.i.assign(p.int64_data().begin(), p.int64_data().end());
    }
    return "";
  case onnx::TensorProto::INT32:
  case onnx::TensorProto::INT16:
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT16:
  case onnx::TensorProto::UINT8:
  case onnx::TensorProto::BOOL: {
    out.isInt = true;
    if (!hasRaw) {
      // Every small integer type is stored in int32_data.
      if (!(err = checkCount(p.int32_data_size())).empty())
        return err;
      out.i.assign(p.int32_data().begin(), p.int32_data().end());
      return "";
    }
    int type = p.data_type();
    size_t size =
        type == onnx::TensorProto::INT32 ? 4
        : type == onnx::TensorProto::INT16 || type == onnx::TensorProto::UINT16
            ? 2
            : 1;
    if (!(err = checkRaw(size)).empty())
      return err;
    out.i.resize(n);
    for (int64_t k = 0; k < n; ++k) {
      const char *at = raw.data() + k * size;
      switch (type) {
      case onnx::TensorProto::INT32: {
        int32_t v;
        std::memcpy(&v, at, 4);
        out.i[k] = v;
        break;
      }
      case onnx::TensorProto::INT16: {
        int16_t v;
        std::memcpy(&v, at, 2);
        out.i[k] = v;
        break;
      }
      case onnx::TensorProto::UINT16: {
        uint16_t v;
        std::memcpy(&v, at, 2);
        out.i[k] = v;
        break;
      }
      case onnx::TensorProto::INT8:
        out.i[k] = int8_t(*at);
        break;
      default:
        out.i[k] = uint8_t(*at);
      }
    }
    return "";
  }
  default:
    return "its element type (" +
           onnx::TensorProto::DataType_Name(
               onnx::TensorProto::DataType(p.data_type())) +
           ") is not supported by dlc";
  }
}

std::vector<float> mlir::dlc::onnximport::permuteData(const HostTensor &t,
                                                      ArrayRef<int64_t> base,
                                                      ArrayRef<int64_t> perm) {
  int64_t rank = base.size();
  Shape strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * base[d + 1];
  int64_t n = numElements(base);
  std::vector<float> out(n);
  Shape index(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int64_t i = 0; i < rank; ++i)
      src += index[i] * strides[perm[i]];
    out[k] = float(t.at(src));
    // Next dlc index, row-major over base[perm[i]].
    for (int64_t i = rank - 1; i >= 0; --i) {
      if (++index[i] < base[perm[i]])
        break;
      index[i] = 0;
    }
  }
  return out;
}

Layout Layout::identity(ArrayRef<int64_t> shape) {
  Layout l;
  l.base.assign(shape.begin(), shape.end());
  for (int64_t i = 0, e = shape.size(); i < e; ++i)
    l.perm.push_back(i);
  return l;
}

Shape Layout::permutedShape() const {
  Shape s;
  for (int64_t p : perm)
    s.push_back(base[p]);
  return s;
}

namespace {
/// A layout reduced to the groups of base dimensions that move together:
/// sizes in base order, and the dlc order of the groups.
struct Canonical {
  Shape sizes, order;
  bool operator==(const Canonical &o) const {
    return sizes == o.sizes && order == o.order;
  }
};
} // namespace

static Canonical canonicalize(const Layout &l) {
  // Base dimensions that are not 1, in dlc order.
  Shape kept;
  for (int64_t p : l.perm)
    if (l.base[p] != 1)
      kept.push_back(p);
  // Runs of consecutive base dimensions form one group.
  SmallVector<Shape> groups;
  for (int64_t p : kept) {
    if (!groups.empty() && groups.back().back() + 1 == p)
      groups.back().push_back(p);
    else
      groups.push_back({p});
  }
  // Groups sorted by base position give the sizes; their dlc positions the
  // order.
  SmallVector<unsigned> byBase(groups.size());
  for (unsigned g = 0; g < groups.size(); ++g)
    byBase[g] = g;
  llvm::sort(byBase, [&](unsigned a, unsigned b) {
    return groups[a].front() < groups[b].front();
  });
  Canonical c;
  Shape rankOf(groups.size());
  for (unsigned r = 0; r < byBase.size(); ++r) {
    int64_t size = 1;
    for (int64_t p : groups[byBase[r]])
      size *= l.base[p];
    c.sizes.push_back(size);
    rankOf[byBase[r]] = r;
  }
  for (unsigned g = 0; g < groups.size(); ++g)
    c.order.push_back(rankOf[g]);
  return c;
}

bool Layout::sameOrder(const Layout &other) const {
  return canonicalize(*this) == canonicalize(other);
}

bool Layout::isIdentityOrder() const {
  return canonicalize(*this).order.size() <= 1;
}

std::vector<int64_t>
mlir::dlc::onnximport::rowPermutation(const Layout &layout,
                                      ArrayRef<int64_t> shape) {
  int64_t rows = shape[0], cols = shape[1];
  // The layout of one row: without the batch, which must stay first (or be
  // 1, when the whole tensor is one row).
  Shape base, perm;
  if (rows == 1) {
    base = layout.base;
    perm = layout.perm;
  } else if (!layout.perm.empty() && layout.perm[0] == 0 &&
             layout.base[0] == rows) {
    base.assign(layout.base.begin() + 1, layout.base.end());
    for (int64_t p : ArrayRef<int64_t>(layout.perm).drop_front())
      perm.push_back(p - 1);
  } else {
    return {};
  }
  // Indices are carried as floats: exact below 2^24 (a dense kernel with
  // more rows would not fit dlc's tensors anyway).
  if (numElements(base) != cols || cols >= (int64_t(1) << 24))
    return {};
  HostTensor index;
  index.shape = base;
  index.isInt = true;
  index.i.resize(cols);
  for (int64_t k = 0; k < cols; ++k)
    index.i[k] = k;
  std::vector<float> order = permuteData(index, base, perm);
  return std::vector<int64_t>(order.begin(), order.end());
}

//===----------------------------------------------------------------------===//
// Constant folding
//===----------------------------------------------------------------------===//

static int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

static HostTensor makeLike(const HostTensor &t, Shape shape) {
  HostTensor out;
  out.shape = std::move(shape);
  out.isInt = t.isInt;
  return out;
}

static void push(HostTensor &out, const HostTensor &in, int64_t k) {
  if (in.isInt)
    out.i.push_back(in.i[k]);
  else
    out.f.push_back(in.f[k]);
}

/// Numpy broadcasting of two shapes; false when incompatible.
static bool broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                            Shape &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[i] = std::max(da, db);
  }
  return true;
}

/// The flat index into `shape` (right-aligned, broadcast) of the element at
/// multi-index `index` of the broadcast result.
static int64_t broadcastIndex(ArrayRef<int64_t> index,
                              ArrayRef<int64_t> shape) {
  int64_t flat = 0;
  size_t offset = index.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i)
    flat = flat * shape[i] + (shape[i] == 1 ? 0 : index[offset + i]);
  return flat;
}

static bool foldBinary(StringRef op, const HostTensor &a, const HostTensor &b,
                       HostTensor &out, std::string &error) {
  Shape shape;
  if (!broadcastShapes(a.shape, b.shape, shape)) {
    error = "its operands do not broadcast";
    return true;
  }
  if (!checkedNumElements(shape))
    return error = "its result is too large", true;
  bool isInt = a.isInt && b.isInt;
  out = HostTensor();
  out.shape = shape;
  out.isInt = isInt;
  int64_t n = numElements(shape);
  Shape index(shape.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    double x = a.at(broadcastIndex(index, a.shape));
    double y = b.at(broadcastIndex(index, b.shape));
    if (isInt) {
      int64_t xi = int64_t(x), yi = int64_t(y), r = 0;
      if (op == "Add")
        r = xi + yi;
      else if (op == "Sub")
        r = xi - yi;
      else if (op == "Mul")
        r = xi * yi;
      else {
        if (yi == 0) {
          error = "it divides by zero";
          return true;
        }
        r = xi / yi;
      }
      out.i.push_back(r);
    } else {
      double r = op == "Add"   ? x + y
                 : op == "Sub" ? x - y
                 : op == "Mul" ? x * y
                               : x / y;
      out.f.push_back(float(r));
    }
    for (int64_t i = int64_t(shape.size()) - 1; i >= 0; --i) {
      if (++index[i] < shape[i])
        break;
      index[i] = 0;
    }
  }
  return true;
}

bool mlir::dlc::onnximport::foldConstantNode(StringRef op,
                                             ArrayRef<const HostTensor *> in,
                                             FoldAttrs &attrs, HostTensor &out,
                                             std::string &error) {
  // The inputs each op needs (optional ones may be null or absent).
  unsigned required =
      op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Gather"
          ? 2
      : op == "Slice" ? 3
                      : 1;
  if (in.size() < required ||
      llvm::any_of(in.take_front(required),
                   [](const HostTensor *t) { return !t; }))
    return error = "it misses an input", true;
  if (op == "Concat" &&
      llvm::any_of(in, [](const HostTensor *t) { return !t; }))
    return error = "it misses an input", true;
  auto axesFrom = [&](unsigned operand) -> std::optional<SmallVector<int64_t>> {
    if (in.size() > operand && in[operand])
      return SmallVector<int64_t>(in[operand]->i.begin(), in[operand]->i.end());
    return attrs.getInts("axes");
  };
  if (op == "Identity") {
    out = *in[0];
    return true;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (in.size() != 2)
      return error = "it needs two inputs", true;
    return foldBinary(op, *in[0], *in[1], out, error);
  }
  if (op == "Cast") {
    std::optional<int64_t> to = attrs.getInt("to");
    if (!to)
      return error = "it has no 'to' attribute", true;
    const HostTensor &x = *in[0];
    out = makeLike(x, x.shape);
    if (*to == onnx::TensorProto::FLOAT || *to == onnx::TensorProto::DOUBLE) {
      out.isInt = false;
      for (int64_t k = 0; k < x.size(); ++k)
        out.f.push_back(float(x.at(k)));
      return true;
    }
    if (*to == onnx::TensorProto::INT64 || *to == onnx::TensorProto::INT32) {
      out.isInt = true;
      for (int64_t k = 0; k < x.size(); ++k)
        out.i.push_back(int64_t(x.at(k)));
      return true;
    }
    return error = "it casts to a type dlc does not fold", true;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    const HostTensor &x = *in[0];
    std::optional<SmallVector<int64_t>> axes = axesFrom(1);
    Shape shape = x.shape;
    if (op == "Unsqueeze") {
      if (!axes)
        return error = "it has no axes", true;
      int64_t rank = shape.size() + axes->size();
      SmallVector<int64_t> sorted;
      for (int64_t a : *axes)
        sorted.push_back(normalizeAxis(a, rank));
      llvm::sort(sorted);
      for (int64_t a : sorted) {
        if (a < 0 || a > int64_t(shape.size()))
          return error = "an axis is out of range", true;
        shape.insert(shape.begin() + a, 1);
      }
    } else {
      Shape kept;
      for (int64_t d = 0, e = shape.size(); d < e; ++d) {
        bool drop = axes ? llvm::any_of(*axes,
                                        [&](int64_t a) {
                                          return normalizeAxis(a, e) == d;
                                        })
                         : shape[d] == 1;
        if (drop && shape[d] != 1)
          return error = "it squeezes a dimension that is not 1", true;
        if (!drop)
          kept.push_back(shape[d]);
      }
      shape = kept;
    }
    out = x;
    out.shape = shape;
    return true;
  }
  if (op == "Concat") {
    std::optional<int64_t> axisAttr = attrs.getInt("axis");
    if (!axisAttr)
      return error = "it has no axis", true;
    int64_t rank = in[0]->shape.size();
    int64_t axis = normalizeAxis(*axisAttr, rank);
    if (axis < 0 || axis >= rank)
      return error = "its axis is out of range", true;
    Shape shape = in[0]->shape;
    shape[axis] = 0;
    bool isInt = true;
    for (const HostTensor *t : in) {
      if (int64_t(t->shape.size()) != rank)
        return error = "its inputs differ in rank", true;
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t->shape[d] != in[0]->shape[d])
          return error = "its inputs differ in a dimension but the axis", true;
      shape[axis] += t->shape[axis];
      isInt &= t->isInt;
    }
    out = HostTensor();
    out.shape = shape;
    out.isInt = isInt;
    int64_t outer = numElements(ArrayRef<int64_t>(shape).take_front(axis));
    for (int64_t o = 0; o < outer; ++o)
      for (const HostTensor *t : in) {
        int64_t chunk =
            numElements(ArrayRef<int64_t>(t->shape).drop_front(axis));
        for (int64_t k = 0; k < chunk; ++k) {
          double v = t->at(o * chunk + k);
          if (isInt)
            out.i.push_back(int64_t(v));
          else
            out.f.push_back(float(v));
        }
      }
    return true;
  }
  if (op == "Gather") {
    const HostTensor &data = *in[0];
    const HostTensor &indices = *in[1];
    int64_t rank = data.shape.size();
    int64_t axis = normalizeAxis(attrs.getInt("axis").value_or(0), rank);
    if (axis < 0 || axis >= rank || !indices.isInt)
      return error = "its axis or indices are invalid", true;
    Shape shape(data.shape.begin(), data.shape.begin() + axis);
    shape.append(indices.shape.begin(), indices.shape.end());
    shape.append(data.shape.begin() + axis + 1, data.shape.end());
    out = makeLike(data, shape);
    int64_t outer = numElements(ArrayRef<int64_t>(data.shape).take_front(axis));
    int64_t inner =
        numElements(ArrayRef<int64_t>(data.shape).drop_front(axis + 1));
    int64_t dim = data.shape[axis];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t idx : indices.i) {
        if (idx < 0)
          idx += dim;
        if (idx < 0 || idx >= dim)
          return error = "an index is out of range", true;
        for (int64_t k = 0; k < inner; ++k)
          push(out, data, (o * dim + idx) * inner + k);
      }
    return true;
  }
  if (op == "Transpose") {
    const HostTensor &x = *in[0];
    int64_t rank = x.shape.size();
    SmallVector<int64_t> perm;
    if (std::optional<SmallVector<int64_t>> p = attrs.getInts("perm"))
      perm = *p;
    else
      for (int64_t d = rank - 1; d >= 0; --d)
        perm.push_back(d);
    SmallVector<int64_t> sorted(perm);
    llvm::sort(sorted);
    for (int64_t d = 0; d < rank; ++d)
      if (int64_t(sorted.size()) != rank || sorted[d] != d)
        return error = "its perm is not a permutation", true;
    std::vector<float> data = permuteData(x, x.shape, perm);
    Shape shape;
    for (int64_t p : perm)
      shape.push_back(x.shape[p]);
    out = makeLike(x, shape);
    if (x.isInt)
      out.i.assign(data.begin(), data.end());
    else
      out.f = std::move(data);
    return true;
  }
  if (op == "Slice") {
    const HostTensor &data = *in[0];
    auto scalar = [&](unsigned k) -> std::optional<int64_t> {
      if (in.size() <= k || !in[k] || !in[k]->isInt || in[k]->i.size() != 1)
        return std::nullopt;
      return in[k]->i[0];
    };
    if (data.shape.size() != 1 || !scalar(1) || !scalar(2) ||
        (in.size() > 3 && in[3] && scalar(3).value_or(1) != 0) ||
        (in.size() > 4 && in[4] && !scalar(4)))
      return error = "dlc folds Slice of 1-D constants only", true;
    int64_t dim = data.shape[0];
    int64_t start = *scalar(1), end = *scalar(2);
    int64_t step = scalar(4).value_or(1);
    if (step != 1)
      return error = "dlc folds Slice with step 1 only", true;
    auto clampIndex = [&](int64_t v) {
      if (v < 0)
        v += dim;
      return std::clamp<int64_t>(v, 0, dim);
    };
    start = clampIndex(start);
    end = clampIndex(end);
    out = makeLike(data, {std::max<int64_t>(end - start, 0)});
    for (int64_t k = start; k < end; ++k)
      push(out, data, k);
    return true;
  }
  return false;
}
