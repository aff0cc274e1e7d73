//===- ArgReader.cpp - Checked access to named arguments ------------------===//
//
// Messages follow one pattern, "<owner>: '<key>' must be <what>, got <value>",
// located at the value, so a user can fix a file from the message alone.
//
//===----------------------------------------------------------------------===//

#include "ArgReader.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc::import;

/// Prints a number the way a user wrote it: 0.5, 1e-07, 3.
static std::string formatNumber(double v) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format("%g", v);
  return s;
}

std::string NumberRange::str() const {
  bool hasLo = std::isfinite(lo), hasHi = std::isfinite(hi);
  if (hasLo && hasHi)
    return "in " + std::string(loOpen ? "(" : "[") + formatNumber(lo) + ", " +
           formatNumber(hi) + (hiOpen ? ")" : "]");
  if (hasLo)
    return (loOpen ? "> " : ">= ") + formatNumber(lo);
  if (hasHi)
    return (hiOpen ? "< " : "<= ") + formatNumber(hi);
  return "a number";
}

ArgReader::ArgReader(const ModelSource &source, const DocNode *mapping,
                     std::string owner, const DocNode *ownerNode)
    : source(source), mapping(mapping), owner(std::move(owner)),
      ownerNode(ownerNode) {}

InFlightDiagnostic ArgReader::emitError(const DocNode *node) const {
  InFlightDiagnostic diag = source.emitError(node ? node : ownerNode);
  diag << owner << ": ";
  return diag;
}

InFlightDiagnostic ArgReader::emitTypeError(StringRef key, const DocNode *value,
                                            StringRef expected) const {
  InFlightDiagnostic diag = emitError(value);
  diag << "'" << key << "' must be " << expected << ", got "
       << value->describe();
  return diag;
}

LogicalResult ArgReader::checkIsMapping(StringRef what) {
  if (!mapping || mapping->isNull() || mapping->isMapping())
    return success();
  return emitError(mapping)
         << "expected a mapping of " << what << ", got " << mapping->describe();
}

const DocNode *ArgReader::lookup(StringRef key) {
  known.insert(key);
  if (!mapping || !mapping->isMapping())
    return nullptr;
  const DocNode *value = mapping->get(key);
  return value && !value->isNull() ? value : nullptr;
}

const DocNode *ArgReader::keyOrOwner(StringRef key) const {
  if (mapping && mapping->isMapping())
    if (const DocNode *k = mapping->getKey(key))
      return k;
  return ownerNode;
}

InFlightDiagnostic ArgReader::emitMissing(StringRef key) const {
  // A misspelled key is the likeliest cause: point at it.
  if (mapping && mapping->isMapping()) {
    for (const DocNode::Entry &entry : mapping->entries) {
      StringRef written = entry.first->text;
      if (known.contains(written) || suggestClosest(written, {key}) != key)
        continue;
      InFlightDiagnostic diag = emitError(entry.first);
      diag << "unknown argument '" << written << "'; did you mean '" << key
           << "'?";
      return diag;
    }
  }
  InFlightDiagnostic diag = source.emitError(ownerNode);
  diag << owner << " needs the argument '" << key << "'";
  return diag;
}

FailureOr<int64_t> ArgReader::getInt(StringRef key,
                                     std::optional<int64_t> defaultValue,
                                     int64_t min, int64_t max) {
  const DocNode *value = lookup(key);
  if (!value) {
    if (defaultValue)
      return *defaultValue;
    return emitMissing(key), failure();
  }
  std::string expected = "an integer";
  if (min != std::numeric_limits<int64_t>::min())
    expected += " >= " + std::to_string(min);
  if (max != std::numeric_limits<int64_t>::max())
    expected +=
        (min != std::numeric_limits<int64_t>::min() ? " and <= " : " <= ") +
        std::to_string(max);
  std::optional<int64_t> v = value->asInt();
  if (!v || *v < min || *v > max)
    return emitTypeError(key, value, expected), failure();
  return *v;
}

FailureOr<double> ArgReader::getNumber(StringRef key,
                                       std::optional<double> defaultValue,
                                       NumberRange range) {
  const DocNode *value = lookup(key);
  if (!value) {
    if (defaultValue)
      return *defaultValue;
    return emitMissing(key), failure();
  }
  std::optional<double> v = value->asNumber();
  if (!v)
    return emitTypeError(key, value, "a number"), failure();
  if (!range.contains(*v))
    return emitError(value) << "'" << key << "' must be " << range.str()
                            << ", got " << value->text,
           failure();
  return *v;
}

FailureOr<bool> ArgReader::getBool(StringRef key,
                                   std::optional<bool> defaultValue) {
  const DocNode *value = lookup(key);
  if (!value) {
    if (defaultValue)
      return *defaultValue;
    return emitMissing(key), failure();
  }
  std::optional<bool> v = value->asBool();
  if (!v)
    return emitTypeError(key, value, "true or false"), failure();
  return *v;
}

FailureOr<StringRef> ArgReader::getString(StringRef key,
                                          std::optional<StringRef> def) {
  const DocNode *value = lookup(key);
  if (!value) {
    if (def)
      return *def;
    return emitMissing(key), failure();
  }
  std::optional<StringRef> v = value->asString();
  if (!v)
    return emitTypeError(key, value, "a string"), failure();
  return *v;
}

FailureOr<StringRef> ArgReader::getChoice(StringRef key,
                                          std::optional<StringRef> def,
                                          ArrayRef<StringRef> choices) {
  std::string expected;
  for (auto [i, c] : llvm::enumerate(choices))
    expected += (i == 0                    ? ""
                 : i + 1 == choices.size() ? " or "
                                           : ", ") +
                ("'" + c + "'").str();
  const DocNode *value = lookup(key);
  if (!value) {
    if (def)
      return *def;
    return emitMissing(key), failure();
  }
  std::optional<StringRef> v = value->asString();
  if (!v)
    return emitTypeError(key, value, expected), failure();
  for (StringRef c : choices)
    if (*v == c)
      return c;
  // Keras itself lower-cases padding and modes; accept "SAME" likewise.
  for (StringRef c : choices)
    if (v->equals_insensitive(c))
      return c;
  return emitTypeError(key, value, expected), failure();
}

FailureOr<IntPair>
ArgReader::getIntPair(StringRef key, std::optional<IntPair> def, int64_t min) {
  const DocNode *value = lookup(key);
  if (!value) {
    if (def)
      return *def;
    return emitMissing(key), failure();
  }
  std::string expected = "an integer >= " + std::to_string(min) +
                         " or a list of two such integers";
  if (std::optional<int64_t> v = value->asInt()) {
    if (*v < min)
      return emitTypeError(key, value, expected), failure();
    return IntPair{*v, *v};
  }
  if (!value->isList() || value->items.size() != 2)
    return emitTypeError(key, value, expected), failure();
  IntPair pair;
  for (auto [i, item] : llvm::enumerate(value->items)) {
    std::optional<int64_t> v = item->asInt();
    if (!v || *v < min)
      return emitTypeError(key, item,
                           "a list of two integers >= " + std::to_string(min)),
             failure();
    pair[i] = *v;
  }
  return pair;
}

FailureOr<SmallVector<int64_t>>
ArgReader::getIntList(StringRef key, int64_t min, bool allowMinusOne) {
  const DocNode *value = lookup(key);
  if (!value)
    return emitMissing(key), failure();
  std::string expected = "a list of integers >= " + std::to_string(min);
  if (allowMinusOne)
    expected += " (or -1)";
  if (!value->isList())
    return emitTypeError(key, value, expected), failure();
  SmallVector<int64_t> result;
  for (const DocNode *item : value->items) {
    std::optional<int64_t> v = item->asInt();
    if (!v || (*v < min && !(allowMinusOne && *v == -1)))
      return emitTypeError(key, item, expected), failure();
    result.push_back(*v);
  }
  return result;
}

FailureOr<std::array<double, 2>>
ArgReader::getSymmetricRange(StringRef key, NumberRange range) {
  const DocNode *value = lookup(key);
  if (!value)
    return emitMissing(key), failure();
  std::string expected =
      "a number or a list [lower, upper] of numbers " + range.str();
  std::array<double, 2> result;
  if (std::optional<double> v = value->asNumber()) {
    result = {-*v, *v};
    if (*v < 0 || !range.contains(*v) || !range.contains(-*v))
      return emitTypeError(key, value, expected), failure();
    return result;
  }
  if (!value->isList() || value->items.size() != 2)
    return emitTypeError(key, value, expected), failure();
  for (auto [i, item] : llvm::enumerate(value->items)) {
    std::optional<double> v = item->asNumber();
    if (!v || !range.contains(*v))
      return emitTypeError(key, item, expected), failure();
    result[i] = *v;
  }
  if (result[0] > result[1])
    return emitError(value) << "'" << key << "' lower bound " << result[0]
                            << " exceeds its upper bound " << result[1],
           failure();
  return result;
}

LogicalResult ArgReader::requireValue(StringRef key, StringRef expected) {
  const DocNode *value = lookup(key);
  if (!value || (value->asString() && *value->asString() == expected))
    return success();
  return emitError(value) << "'" << key << "' must be '" << expected
                          << "' in dlc, got " << value->describe();
}

LogicalResult ArgReader::requireUnset(StringRef key) {
  const DocNode *value = lookup(key);
  if (!value)
    return success();
  if (value->asBool() == false || value->asNumber() == 0.0 ||
      (value->isList() && value->items.empty()) ||
      (value->isMapping() && value->entries.empty()))
    return success();
  return emitError(value) << "'" << key << "' is not supported by dlc";
}

LogicalResult ArgReader::finish() {
  if (!mapping || !mapping->isMapping())
    return success();
  for (const DocNode::Entry &entry : mapping->entries) {
    StringRef key = entry.first->text;
    if (known.contains(key))
      continue;
    SmallVector<StringRef> candidates;
    for (const auto &k : known)
      candidates.push_back(k.getKey());
    llvm::sort(candidates);
    InFlightDiagnostic diag = emitError(entry.first);
    diag << "unknown argument '" << key << "'";
    if (StringRef guess = suggestClosest(key, candidates); !guess.empty())
      diag << "; did you mean '" << guess << "'?";
    return failure();
  }
  return success();
}
