//===- ArgReader.h - Checked access to named arguments ----------*- C++ -*-===//
//
// Layers, initializers, losses and optimizers all take Keras-style named
// arguments. ArgReader reads them from a mapping with the type, range and
// default of each, reports every mistake at the offending key or value, and
// finally reports the keys nobody asked for (with a "did you mean").
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_ARGREADER_H
#define DLC_LIB_IMPORT_ARGREADER_H

#include "Document.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringSet.h"

#include <array>
#include <limits>

namespace mlir::dlc::import {

/// An interval of accepted numbers, printed in messages as [lo, hi).
struct NumberRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool loOpen = false, hiOpen = false;

  static NumberRange any() { return {}; }
  static NumberRange positive() { return {0.0, any().hi, true, false}; }
  static NumberRange nonNegative() { return {0.0, any().hi, false, false}; }
  static NumberRange closed(double lo, double hi) { return {lo, hi}; }
  static NumberRange halfOpen(double lo, double hi) {
    return {lo, hi, false, true};
  }

  bool contains(double v) const {
    return (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  }
  std::string str() const;
};

using IntPair = std::array<int64_t, 2>;

class ArgReader {
public:
  /// Reads the arguments in `mapping` (a mapping node, or null for none) of
  /// `owner`, a description such as "Conv2D layer 'conv2d'" that starts
  /// every message; `ownerNode` locates messages about missing arguments.
  ArgReader(const ModelSource &source, const DocNode *mapping,
            std::string owner, const DocNode *ownerNode);

  /// Checks that the node given to the constructor is a mapping (or null).
  LogicalResult checkIsMapping(StringRef what = "arguments");

  /// The value of `key`; null when absent or written as null (Keras writes
  /// None for "use the default"). Marks `key` as known.
  const DocNode *lookup(StringRef key);
  /// The node of `key` itself for locations, or the owner when absent.
  const DocNode *keyOrOwner(StringRef key) const;
  /// Marks `key` as known without reading it.
  void ignore(StringRef key) { known.insert(key); }

  FailureOr<int64_t> getInt(StringRef key, std::optional<int64_t> defaultValue,
                            int64_t min = std::numeric_limits<int64_t>::min(),
                            int64_t max = std::numeric_limits<int64_t>::max());
  FailureOr<double> getNumber(StringRef key, std::optional<double> defaultValue,
                              NumberRange range = NumberRange::any());
  FailureOr<bool> getBool(StringRef key, std::optional<bool> defaultValue);
  FailureOr<StringRef> getString(StringRef key,
                                 std::optional<StringRef> defaultValue);
  /// A string among `choices`.
  FailureOr<StringRef> getChoice(StringRef key,
                                 std::optional<StringRef> defaultValue,
                                 ArrayRef<StringRef> choices);
  /// An integer n (meaning [n, n]) or a list of two integers, each >= min.
  FailureOr<IntPair>
  getIntPair(StringRef key, std::optional<IntPair> defaultValue, int64_t min);
  /// A list of integers, each >= min (or -1 where `allowMinusOne`).
  FailureOr<SmallVector<int64_t>> getIntList(StringRef key, int64_t min,
                                             bool allowMinusOne = false);
  /// A number x (meaning [-x, x]) or a list of two numbers, within `range`.
  FailureOr<std::array<double, 2>> getSymmetricRange(StringRef key,
                                                     NumberRange range);

  /// Accepts `key` only when it is absent, null or `expected` (Keras
  /// bookkeeping such as data_format: channels_last); anything else is a
  /// Keras feature dlc does not implement.
  LogicalResult requireValue(StringRef key, StringRef expected);
  /// Accepts `key` only when absent, null, or false/0/empty.
  LogicalResult requireUnset(StringRef key);

  /// Reports the first key no accessor asked for.
  LogicalResult finish();

  /// "<owner>: " at `node` (the owner's location when null).
  InFlightDiagnostic emitError(const DocNode *node) const;
  InFlightDiagnostic emitTypeError(StringRef key, const DocNode *value,
                                   StringRef expected) const;
  const std::string &getOwner() const { return owner; }
  /// "<owner> needs the argument '<key>'", or the unknown-argument error of
  /// a written key that looks like a misspelling of `key`.
  InFlightDiagnostic emitMissing(StringRef key) const;
  const DocNode *getOwnerNode() const { return ownerNode; }
  const DocNode *getMapping() const { return mapping; }
  const ModelSource &getSource() const { return source; }

private:
  const ModelSource &source;
  const DocNode *mapping;
  std::string owner;
  const DocNode *ownerNode;
  llvm::StringSet<> known;
};

} // namespace mlir::dlc::import

#endif // DLC_LIB_IMPORT_ARGREADER_H
