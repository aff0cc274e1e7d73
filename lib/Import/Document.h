//===- Document.h - Located tree of a YAML or JSON model file ---*- C++ -*-===//
//
// Model files are parsed once, with LLVM's YAML parser (JSON is read as the
// flow subset of YAML), into a small immutable tree whose nodes keep their
// source range. Everything after parsing works on this tree: the YAML
// parser's nodes can be iterated only once, and both file formats share the
// tree and its typed accessors, so every later error can name a line:col.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_DOCUMENT_H
#define DLC_LIB_IMPORT_DOCUMENT_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/SMLoc.h"
#include "llvm/Support/StringSaver.h"

#include <optional>

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir::dlc::import {

/// One node of a model file: null, a scalar, a list or a mapping.
struct DocNode {
  enum class Kind { Null, Scalar, List, Mapping };
  using Entry = std::pair<const DocNode *, const DocNode *>;

  Kind kind = Kind::Null;
  /// Start of the node in the source (for a mapping entry's value, where the
  /// value starts; for keys, the key).
  llvm::SMLoc loc;
  /// Scalar text, unescaped (empty for other kinds).
  StringRef text;
  /// The scalar was quoted ("3" is a string, 3 a number).
  bool quoted = false;
  /// List items.
  SmallVector<const DocNode *, 0> items;
  /// Mapping entries in file order; keys are unique scalar nodes.
  SmallVector<Entry, 0> entries;

  bool isNull() const { return kind == Kind::Null; }
  bool isScalar() const { return kind == Kind::Scalar; }
  bool isList() const { return kind == Kind::List; }
  bool isMapping() const { return kind == Kind::Mapping; }

  /// The value of `key` in a mapping, or null when absent.
  const DocNode *get(StringRef key) const;
  /// The key node of `key` in a mapping (for locations), or null.
  const DocNode *getKey(StringRef key) const;

  /// The scalar as a signed integer, if it is one (decimal, no fraction).
  std::optional<int64_t> asInt() const;
  /// The scalar as a finite number, if it is one (integers included).
  std::optional<double> asNumber() const;
  /// The scalar as a boolean (true/false, True/False, TRUE/FALSE).
  std::optional<bool> asBool() const;
  /// The scalar as a string. Quoted scalars always are; plain ones unless
  /// they read as a number, a boolean or null.
  std::optional<StringRef> asString() const;

  /// Describes the node for "expected X, got Y" messages, e.g. `a list`,
  /// `the string "32"`, `the number 1.5`.
  std::string describe() const;
};

/// The model file being imported: its buffer, and the conversion of source
/// positions into MLIR locations for diagnostics and IR.
class ModelSource {
public:
  ModelSource(llvm::SourceMgr &sourceMgr, MLIRContext *context);

  MLIRContext *getContext() const { return context; }
  StringRef getFilename() const { return filename; }
  StringRef getBuffer() const { return buffer; }

  /// The file:line:col location of `loc` (1-based line and column).
  FileLineColLoc getLoc(llvm::SMLoc loc) const;
  FileLineColLoc getLoc(const DocNode *node) const {
    return getLoc(node ? node->loc : startLoc());
  }
  /// The start of the file, for problems with the file as a whole.
  llvm::SMLoc startLoc() const {
    return llvm::SMLoc::getFromPointer(buffer.data());
  }

  InFlightDiagnostic emitError(const DocNode *node) const {
    return mlir::emitError(getLoc(node));
  }
  InFlightDiagnostic emitError(llvm::SMLoc loc) const {
    return mlir::emitError(getLoc(loc));
  }

private:
  llvm::SourceMgr &sourceMgr;
  MLIRContext *context;
  unsigned bufferId;
  StringRef buffer;
  StringRef filename;
};

/// Owns the nodes and strings of a parsed model file.
class Document {
public:
  /// Parses the main buffer of `source`. YAML syntax errors (and constructs
  /// dlc does not accept: anchors, aliases, tags, several documents, very deep
  /// nesting) are reported at their location.
  static FailureOr<std::unique_ptr<Document>> parse(const ModelSource &source);

  const DocNode *getRoot() const { return root; }

  DocNode *createNode(DocNode::Kind kind, llvm::SMLoc loc);
  StringRef save(StringRef s) { return saver.save(s); }

private:
  Document() : saver(allocator) {}

  llvm::BumpPtrAllocator allocator;
  llvm::SpecificBumpPtrAllocator<DocNode> nodeAllocator;
  llvm::StringSaver saver;
  const DocNode *root = nullptr;
};

/// Returns the entry of `candidates` closest to `name` by edit distance
/// (case-insensitive first), or an empty string when none is close.
StringRef suggestClosest(StringRef name, ArrayRef<StringRef> candidates);

} // namespace mlir::dlc::import

#endif // DLC_LIB_IMPORT_DOCUMENT_H
