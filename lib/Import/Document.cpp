//===- Document.cpp - Located tree of a YAML or JSON model file -----------===//
//
// Converts LLVM's YAML parser output into DocNodes. JSON needs no parser of
// its own: it is the flow subset of YAML, and the YAML parser reports
// positions for both. The parser reports its first syntax error through a
// private SourceMgr whose handler turns it into an MLIR diagnostic at the
// same position, so callers see one stream of located diagnostics.
//
//===----------------------------------------------------------------------===//

#include "Document.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/YAMLParser.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc::import;

//===----------------------------------------------------------------------===//
// DocNode
//===----------------------------------------------------------------------===//

const DocNode *DocNode::get(StringRef key) const {
  for (const Entry &e : entries)
    if (e.first->text == key)
      return e.second;
  return nullptr;
}

const DocNode *DocNode::getKey(StringRef key) const {
  for (const Entry &e : entries)
    if (e.first->text == key)
      return e.first;
  return nullptr;
}

std::optional<int64_t> DocNode::asInt() const {
  if (!isScalar() || quoted || text.empty())
    return std::nullopt;
  // getAsInteger would also accept 0x/0b prefixes; numbers in model files
  // are decimal, as in JSON.
  StringRef signedDigits = text;
  signedDigits.consume_front("+");
  StringRef digits = signedDigits;
  digits.consume_front("-");
  if (digits.empty() || !llvm::all_of(digits, llvm::isDigit))
    return std::nullopt;
  int64_t value;
  if (signedDigits.getAsInteger(10, value))
    return std::nullopt; // Out of range.
  return value;
}

std::optional<double> DocNode::asNumber() const {
  if (!isScalar() || quoted || text.empty())
    return std::nullopt;
  // Only decimal notation: APFloat would also read "inf", "nan" and hex.
  if (!llvm::all_of(text,
                    [](char c) {
                      return llvm::isDigit(c) || c == '.' || c == 'e' ||
                             c == 'E' || c == '-' || c == '+';
                    }) ||
      !llvm::any_of(text, llvm::isDigit))
    return std::nullopt;
  double value;
  if (text.getAsDouble(value, /*AllowInexact=*/true) || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::optional<bool> DocNode::asBool() const {
  if (!isScalar() || quoted)
    return std::nullopt;
  if (text == "true" || text == "True" || text == "TRUE")
    return true;
  if (text == "false" || text == "False" || text == "FALSE")
    return false;
  return std::nullopt;
}

std::optional<StringRef> DocNode::asString() const {
  if (!isScalar())
    return std::nullopt;
  if (quoted)
    return text;
  if (asNumber() || asBool())
    return std::nullopt;
  return text;
}

std::string DocNode::describe() const {
  switch (kind) {
  case Kind::Null:
    return "null";
  case Kind::List:
    return "a list";
  case Kind::Mapping:
    return "a mapping";
  case Kind::Scalar:
    break;
  }
  std::string shown =
      text.size() > 40 ? (text.take_front(37) + "...").str() : text.str();
  if (asString())
    return "the string \"" + shown + "\"";
  if (asBool())
    return "the boolean " + shown;
  if (asInt())
    return "the integer " + shown;
  return "the number " + shown;
}

//===----------------------------------------------------------------------===//
// ModelSource
//===----------------------------------------------------------------------===//

ModelSource::ModelSource(llvm::SourceMgr &sourceMgr, MLIRContext *context)
    : sourceMgr(sourceMgr), context(context),
      bufferId(sourceMgr.getMainFileID()) {
  const llvm::MemoryBuffer *mb = sourceMgr.getMemoryBuffer(bufferId);
  buffer = mb->getBuffer();
  filename = mb->getBufferIdentifier();
}

FileLineColLoc ModelSource::getLoc(llvm::SMLoc loc) const {
  if (!loc.isValid() || loc.getPointer() < buffer.begin() ||
      loc.getPointer() > buffer.end())
    loc = startLoc();
  auto [line, col] = sourceMgr.getLineAndColumn(loc, bufferId);
  return FileLineColLoc::get(context, filename, line, col);
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

namespace {
/// Deeper nesting is no model file; the limit also bounds the recursion of
/// the converter (and of the YAML parser behind it) on hostile input.
constexpr unsigned kMaxDepth = 64;

/// Converts one YAML document into DocNodes, stopping at the first error.
class Converter {
public:
  Converter(const ModelSource &source, Document &doc, bool &failed)
      : source(source), doc(doc), failed(failed) {}

  const DocNode *convert(llvm::yaml::Node *node, unsigned depth);

private:
  const DocNode *fail(llvm::SMLoc loc, const Twine &message) {
    if (!failed)
      source.emitError(loc) << message;
    failed = true;
    return nullptr;
  }

  /// The parser locates a flow collection at its first item; messages read
  /// better at the opening bracket.
  llvm::SMLoc flowStart(llvm::SMLoc loc, char open) const {
    const char *begin = source.getBuffer().begin();
    const char *p = loc.getPointer();
    while (p > begin && llvm::is_contained(" \t\r\n", p[-1]))
      --p;
    if (p > begin && p[-1] == open)
      return llvm::SMLoc::getFromPointer(p - 1);
    return loc;
  }

  const ModelSource &source;
  Document &doc;
  bool &failed;
};

struct YamlDiagState {
  const ModelSource *source;
  bool *failed;
};

/// Receives the YAML parser's messages (it reports only its first error).
void handleYamlDiagnostic(const llvm::SMDiagnostic &diag, void *context) {
  auto *state = static_cast<YamlDiagState *>(context);
  if (diag.getKind() != llvm::SourceMgr::DK_Error || *state->failed)
    return;
  *state->failed = true;
  // The parser's messages are capitalized sentences; MLIR's are not.
  std::string message = diag.getMessage().str();
  if (!message.empty())
    message[0] = llvm::toLower(message[0]);
  state->source->emitError(diag.getLoc()) << "invalid YAML/JSON: " << message;
}
} // namespace

const DocNode *Converter::convert(llvm::yaml::Node *node, unsigned depth) {
  using namespace llvm::yaml;
  if (failed || !node)
    return nullptr;
  llvm::SMLoc loc = node->getSourceRange().Start;
  if (isa<SequenceNode>(node))
    loc = flowStart(loc, '[');
  else if (isa<MappingNode>(node))
    loc = flowStart(loc, '{');
  if (depth > kMaxDepth)
    return fail(loc, "nesting is deeper than " + Twine(kMaxDepth) + " levels");
  if (!node->getAnchor().empty() || isa<AliasNode>(node))
    return fail(loc, "YAML anchors and aliases are not supported in model "
                     "files");
  if (!node->getRawTag().empty())
    return fail(loc, "YAML tags are not supported in model files");

  switch (node->getType()) {
  case Node::NK_Null:
    return doc.createNode(DocNode::Kind::Null, loc);
  case Node::NK_Scalar: {
    auto *scalar = cast<ScalarNode>(node);
    SmallString<64> storage;
    StringRef value = scalar->getValue(storage);
    StringRef raw = scalar->getRawValue();
    bool quoted = raw.starts_with("\"") || raw.starts_with("'");
    // YAML's (and JSON's) spellings of null.
    if (!quoted &&
        (value == "null" || value == "Null" || value == "NULL" || value == "~"))
      return doc.createNode(DocNode::Kind::Null, loc);
    DocNode *n = doc.createNode(DocNode::Kind::Scalar, loc);
    n->text = doc.save(value);
    n->quoted = quoted;
    return n;
  }
  case Node::NK_BlockScalar: {
    DocNode *n = doc.createNode(DocNode::Kind::Scalar, loc);
    n->text = doc.save(cast<BlockScalarNode>(node)->getValue());
    n->quoted = true;
    return n;
  }
  case Node::NK_Sequence: {
    DocNode *n = doc.createNode(DocNode::Kind::List, loc);
    for (Node &item : *cast<SequenceNode>(node)) {
      const DocNode *converted = convert(&item, depth + 1);
      if (!converted)
        return fail(loc, "invalid list");
      n->items.push_back(converted);
    }
    return failed ? nullptr : n;
  }
  case Node::NK_Mapping: {
    DocNode *n = doc.createNode(DocNode::Kind::Mapping, loc);
    for (KeyValueNode &entry : *cast<MappingNode>(node)) {
      Node *keyNode = entry.getKey();
      if (failed || !keyNode)
        return fail(loc, "invalid mapping");
      llvm::SMLoc keyLoc = keyNode->getSourceRange().Start;
      if (!isa<ScalarNode>(keyNode))
        return fail(keyLoc, "mapping keys must be names");
      const DocNode *key = convert(keyNode, depth + 1);
      if (!key)
        return nullptr;
      if (!key->isScalar())
        return fail(keyLoc, "mapping keys must be names");
      if (const DocNode *previous = n->getKey(key->text)) {
        InFlightDiagnostic diag = source.emitError(key);
        diag << "duplicate key '" << key->text << "'";
        diag.attachNote(source.getLoc(previous)) << "first given here";
        failed = true;
        return nullptr;
      }
      const DocNode *value = convert(entry.getValue(), depth + 1);
      if (!value)
        return fail(keyLoc, "invalid value of '" + key->text + "'");
      n->entries.push_back({key, value});
    }
    return failed ? nullptr : n;
  }
  case Node::NK_KeyValue:
  case Node::NK_Alias:
    break;
  }
  return fail(loc, "unexpected YAML node");
}

DocNode *Document::createNode(DocNode::Kind kind, llvm::SMLoc loc) {
  auto *node = new (nodeAllocator.Allocate()) DocNode();
  node->kind = kind;
  node->loc = loc;
  return node;
}

FailureOr<std::unique_ptr<Document>>
Document::parse(const ModelSource &source) {
  std::unique_ptr<Document> doc(new Document());
  StringRef buffer = source.getBuffer();

  // A private SourceMgr over the same bytes: the YAML parser reports through
  // it, and its handler re-emits on the MLIR context (printing through the
  // caller's SourceMgr here would re-enter the caller's handler).
  bool failed = false;
  YamlDiagState state{&source, &failed};
  llvm::SourceMgr yamlMgr;
  yamlMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBuffer(buffer, source.getFilename(),
                                       /*RequiresNullTerminator=*/false),
      llvm::SMLoc());
  yamlMgr.setDiagHandler(handleYamlDiagnostic, &state);

  // LLVM's scanner stops at a directive other than %YAML and %TAG without
  // a message (found by fuzz/): report such a line here.
  for (size_t pos = 0; pos < buffer.size();) {
    StringRef line = buffer.substr(pos).take_until(
        [](char c) { return c == '\n' || c == '\r'; });
    if (line.starts_with("%") && !line.starts_with("%YAML ") &&
        !line.starts_with("%TAG ")) {
      source.emitError(llvm::SMLoc::getFromPointer(line.data()))
          << "invalid YAML/JSON: a line starting with '%' is a YAML "
             "directive, and only %YAML and %TAG exist (quote the text or "
             "remove the line)";
      return failure();
    }
    pos += line.size() + 1;
  }

  llvm::yaml::Stream stream(llvm::MemoryBufferRef(buffer, source.getFilename()),
                            yamlMgr, /*ShowColors=*/false);
  llvm::yaml::document_iterator it = stream.begin();
  // Every failure below has been reported, except where the YAML parser
  // gives up silently: say so rather than fail without a message.
  auto silentFailure = [&] {
    if (!failed)
      source.emitError(source.startLoc())
          << "invalid YAML/JSON: the YAML parser stopped without a message";
    return failure();
  };
  if (failed || it == stream.end())
    return silentFailure();
  Converter converter(source, *doc, failed);
  const DocNode *root = converter.convert(it->getRoot(), /*depth=*/0);
  if (failed || !root)
    return silentFailure();
  // Anything after the first document (even a bare `---`) is a mistake.
  ++it;
  if (failed)
    return silentFailure();
  if (it != stream.end()) {
    llvm::SMLoc loc;
    if (llvm::yaml::Node *next = it->getRoot())
      loc = next->getSourceRange().Start;
    if (failed)
      return silentFailure();
    source.emitError(loc.isValid() ? loc : source.startLoc())
        << "a model file holds one YAML document; found a second one";
    return failure();
  }
  doc->root = root;
  return doc;
}

StringRef mlir::dlc::import::suggestClosest(StringRef name,
                                            ArrayRef<StringRef> candidates) {
  StringRef best;
  unsigned bestDistance = std::max<unsigned>(2, name.size() / 3) + 1;
  for (StringRef candidate : candidates) {
    // Case-only differences are the most likely typo (Conv2d for Conv2D).
    if (candidate.equals_insensitive(name))
      return candidate;
    unsigned distance = name.edit_distance_insensitive(
        candidate, /*AllowReplacements=*/true, bestDistance);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best;
}
