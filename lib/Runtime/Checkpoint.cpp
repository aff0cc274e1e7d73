//===- Checkpoint.cpp - safetensors checkpoints ---------------------------===//
//
// The reader validates everything a corrupt or foreign file could get wrong
// before a byte of tensor data is trusted; the writer pads the header to 8
// bytes (as the reference implementation does) so data stays aligned.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/CheckpointMetadata.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace dlc::runtime;

static_assert(llvm::endianness::native == llvm::endianness::little,
              "safetensors data is little-endian; so is every supported host");

/// The reference implementation's limit; a larger value means corruption.
static constexpr uint64_t kMaxHeaderSize = 100'000'000;

/// The dtypes of the safetensors format (dlc reads some of them).
static bool isSafeTensorsDType(llvm::StringRef dtype) {
  return llvm::is_contained({"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16",
                             "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
                             "I64", "U64"},
                            dtype);
}

static llvm::Error formatError(llvm::StringRef name, const llvm::Twine &what) {
  return llvm::createStringError(name +
                                 ": not a valid safetensors file: " + what);
}

llvm::Expected<SafeTensorsFile>
SafeTensorsFile::parse(std::vector<uint8_t> bytes, llvm::StringRef name) {
  SafeTensorsFile file;
  file.bytes = std::move(bytes);
  const std::vector<uint8_t> &b = file.bytes;
  if (b.size() < 8)
    return formatError(name, "the file is shorter than the 8-byte header "
                             "length (truncated?)");
  uint64_t headerSize = llvm::support::endian::read64le(b.data());
  if (headerSize > kMaxHeaderSize || headerSize > b.size() - 8)
    return formatError(name, llvm::formatv("the header length {0} exceeds the "
                                           "file size {1} (truncated?)",
                                           headerSize, b.size()));
  llvm::StringRef headerText(reinterpret_cast<const char *>(b.data() + 8),
                             headerSize);
  // llvm::json recurses once per nesting level: bound it before parsing.
  if (llvm::Error e = checkJsonDepth(headerText, "the header"))
    return formatError(name, llvm::toString(std::move(e)));
  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return formatError(name, "the header is not valid JSON: " +
                                 llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    return formatError(name, "the header is not a JSON object");

  llvm::ArrayRef<uint8_t> data(b.data() + 8 + headerSize,
                               b.size() - 8 - headerSize);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto &[key, value] : *root) {
    llvm::StringRef tensorName = key;
    if (tensorName == "__metadata__") {
      const llvm::json::Object *meta = value.getAsObject();
      if (!meta)
        return formatError(name, "__metadata__ is not an object");
      for (const auto &[mk, mv] : *meta) {
        std::optional<llvm::StringRef> s = mv.getAsString();
        if (!s)
          return formatError(name, "__metadata__ value '" +
                                       llvm::StringRef(mk) +
                                       "' is not a string");
        file.metadata[mk.str()] = s->str();
      }
      continue;
    }
    const llvm::json::Object *t = value.getAsObject();
    if (!t)
      return formatError(name, "entry '" + tensorName + "' is not an object");
    std::optional<llvm::StringRef> dtypeStr = t->getString("dtype");
    const llvm::json::Array *shape = t->getArray("shape");
    const llvm::json::Array *offsets = t->getArray("data_offsets");
    if (!dtypeStr || !shape || !offsets || offsets->size() != 2)
      return formatError(name, "entry '" + tensorName +
                                   "' needs dtype, shape and data_offsets "
                                   "[begin, end]");
    std::optional<DType> dtype = parseDTypeName(*dtypeStr);
    if (!dtype && isSafeTensorsDType(*dtypeStr))
      return llvm::createStringError(
          name + ": tensor '" + tensorName + "' has dtype " + *dtypeStr +
          ", which dlc does not support (it reads F32, I32 and I64)");
    if (!dtype)
      return formatError(name, "entry '" + tensorName +
                                   "' has an unknown dtype '" + *dtypeStr +
                                   "'");
    Entry entry{tensorName.str(), *dtype, {}, {}};
    uint64_t elements = 1;
    for (const llvm::json::Value &d : *shape) {
      std::optional<int64_t> n = d.getAsInteger();
      // Bounded so the element count cannot wrap around.
      if (!n || *n < 0 || *n > int64_t(kMaxHeaderSize) * 100 ||
          (*n && elements > (uint64_t(1) << 48) / uint64_t(*n)))
        return formatError(name, "entry '" + tensorName + "' has a bad shape");
      entry.shape.push_back(*n);
      elements *= *n;
    }
    std::optional<int64_t> begin = (*offsets)[0].getAsInteger();
    std::optional<int64_t> end = (*offsets)[1].getAsInteger();
    if (!begin || !end || *begin < 0 || *end < *begin ||
        uint64_t(*end) > data.size())
      return formatError(name, llvm::formatv("entry '{0}' has data_offsets "
                                             "outside the {1} data bytes "
                                             "(truncated?)",
                                             tensorName, data.size()));
    if (uint64_t(*end - *begin) != elements * dtypeSize(*dtype))
      return formatError(
          name, llvm::formatv("entry '{0}': shape {1} of {2} "
                              "needs {3} bytes, not {4}",
                              tensorName, formatShape(entry.shape), *dtypeStr,
                              elements * dtypeSize(*dtype), *end - *begin));
    entry.data = data.slice(*begin, *end - *begin);
    ranges.push_back({uint64_t(*begin), uint64_t(*end)});
    file.entries.push_back(std::move(entry));
  }
  // The format requires the data to be covered exactly, without overlaps.
  llvm::sort(ranges);
  uint64_t position = 0;
  for (auto [begin, end] : ranges) {
    if (begin != position)
      return formatError(name, "tensor data overlaps or leaves holes");
    position = end;
  }
  if (position != data.size())
    return formatError(name, llvm::formatv("{0} bytes after the last tensor",
                                           data.size() - position));
  llvm::sort(file.entries, [](const Entry &a, const Entry &b) {
    return a.data.data() < b.data.data();
  });
  return file;
}

llvm::Expected<SafeTensorsFile> SafeTensorsFile::read(llvm::StringRef path) {
  auto bytes = readFileBytes(path);
  if (!bytes)
    return bytes.takeError();
  return parse(std::move(*bytes), path);
}

const SafeTensorsFile::Entry *
SafeTensorsFile::lookup(llvm::StringRef tensorName) const {
  for (const Entry &e : entries)
    if (e.name == tensorName)
      return &e;
  return nullptr;
}

std::vector<uint8_t> dlc::runtime::serializeSafeTensors(
    llvm::ArrayRef<std::pair<std::string, const Tensor *>> tensors,
    const Metadata &metadata) {
  std::string header;
  {
    llvm::raw_string_ostream os(header);
    llvm::json::OStream json(os);
    json.object([&] {
      if (!metadata.empty())
        json.attributeObject("__metadata__", [&] {
          for (const auto &[key, value] : metadata)
            json.attribute(key, value);
        });
      uint64_t offset = 0;
      for (const auto &entry : tensors) {
        const Tensor *tensor = entry.second;
        json.attributeObject(entry.first, [&] {
          json.attribute("dtype", dtypeName(tensor->getDType()));
          json.attributeArray("shape", [&] {
            for (int64_t d : tensor->getShape())
              json.value(d);
          });
          json.attributeArray("data_offsets", [&] {
            json.value(offset);
            json.value(offset + tensor->getSizeInBytes());
          });
        });
        offset += tensor->getSizeInBytes();
      }
    });
  }
  // Spaces after the JSON are allowed; they align the data to 8 bytes.
  header.append((8 - header.size() % 8) % 8, ' ');
  std::vector<uint8_t> out(8);
  llvm::support::endian::write64le(out.data(), header.size());
  out.insert(out.end(), header.begin(), header.end());
  for (const auto &entry : tensors) {
    llvm::ArrayRef<uint8_t> bytes = entry.second->bytes();
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

llvm::Error dlc::runtime::saveCheckpoint(llvm::StringRef path,
                                         const CompiledModel &model,
                                         llvm::ArrayRef<DeviceTensor> tensors,
                                         const Metadata &metadata) {
  // Views of the device memory on the CPU, downloaded copies elsewhere.
  std::vector<Tensor> host;
  host.reserve(tensors.size());
  for (const DeviceTensor &tensor : tensors) {
    llvm::Expected<Tensor> values = tensor.download();
    if (!values)
      return values.takeError();
    host.push_back(std::move(*values));
  }
  std::vector<std::pair<std::string, const Tensor *>> named;
  for (auto [spec, tensor] : llvm::zip(model.getTensors(), host))
    named.push_back({spec.name, &tensor});
  return writeFileAtomically(path, serializeSafeTensors(named, metadata));
}

llvm::Error dlc::runtime::checkCheckpoint(const SafeTensorsFile &file,
                                          llvm::StringRef path,
                                          const CompiledModel &model,
                                          CheckpointUse use) {
  std::vector<std::string> problems;
  for (const TensorSpec &spec : model.getTensors()) {
    const SafeTensorsFile::Entry *entry = file.lookup(spec.name);
    if (!entry) {
      if (use == CheckpointUse::Inference &&
          spec.group == TensorGroup::OptState)
        continue;
      problems.push_back(
          ("it lacks " + groupName(spec.group) + " '" + spec.name + "'").str());
      continue;
    }
    if (entry->dtype != spec.dtype ||
        llvm::ArrayRef<int64_t>(entry->shape) != llvm::ArrayRef(spec.shape)) {
      problems.push_back(llvm::formatv(
          "'{0}' is {1} {2} in the checkpoint "
          "but {3} {4} in the model",
          spec.name, dtypeName(entry->dtype), formatShape(entry->shape),
          dtypeName(spec.dtype), formatShape(spec.shape)));
      continue;
    }
  }
  for (const SafeTensorsFile::Entry &entry : file.getEntries())
    if (!model.lookupTensor(entry.name))
      problems.push_back("the model has no tensor '" + entry.name + "'");
  if (!problems.empty()) {
    const Metadata &meta = file.getMetadata();
    auto it = meta.find("model");
    std::string from =
        it == meta.end() ? "" : " (saved from model '" + it->second + "')";
    size_t shown = std::min<size_t>(problems.size(), 5);
    std::string list =
        llvm::join(problems.begin(), problems.begin() + shown, "; ");
    if (shown < problems.size())
      list += llvm::formatv("; and {0} more", problems.size() - shown).str();
    return llvm::createStringError(
        "checkpoint '%s'%s does not match model '%s': %s", path.str().c_str(),
        from.c_str(), model.getName().str().c_str(), list.c_str());
  }
  return llvm::Error::success();
}

llvm::Expected<Metadata>
dlc::runtime::loadCheckpoint(llvm::StringRef path, const CompiledModel &model,
                             llvm::MutableArrayRef<DeviceTensor> tensors,
                             CheckpointUse use) {
  auto file = SafeTensorsFile::read(path);
  if (!file)
    return file.takeError();
  if (llvm::Error e = checkCheckpoint(*file, path, model, use))
    return std::move(e);
  // Straight from the file's bytes into device memory: one copy.
  for (auto [spec, tensor] : llvm::zip(model.getTensors(), tensors))
    if (const SafeTensorsFile::Entry *entry = file->lookup(spec.name))
      if (llvm::Error e = tensor.upload(entry->data.data()))
        return std::move(e);
  return file->getMetadata();
}
