//===- Analysis.cpp - What the report shows beyond the curves -------------===//
//
// Everything here runs once per report (after each epoch): one predict pass
// over the held-out samples, one features call, one download of the first
// convolution's kernel.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Analysis.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cmath>

using namespace dlc::runtime;

std::vector<std::string> dlc::runtime::classNamesFor(
    llvm::ArrayRef<std::string> given, llvm::ArrayRef<std::string> model,
    llvm::StringRef dataSpec, llvm::StringRef dataDescription,
    int64_t numClasses) {
  if (int64_t(given.size()) == numClasses)
    return given.vec();
  if (int64_t(model.size()) == numClasses)
    return model.vec();
  std::string where = (dataSpec + " " + dataDescription).str();
  where = llvm::StringRef(where).lower();
  llvm::StringRef w(where);
  if (numClasses == 10) {
    if (w.contains("fashion"))
      return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    if (w.contains("cifar"))
      return {"airplane", "automobile", "bird",  "cat",  "deer",
              "dog",      "frog",       "horse", "ship", "truck"};
    if (w.contains("mnist"))
      return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  }
  std::vector<std::string> names;
  for (int64_t c = 0; c < numClasses; ++c)
    names.push_back("class_" + std::to_string(c));
  return names;
}

llvm::Expected<std::vector<std::string>>
dlc::runtime::parseClassNames(llvm::StringRef value) {
  llvm::SmallVector<llvm::StringRef> parts;
  std::unique_ptr<llvm::MemoryBuffer> file;
  if (llvm::sys::fs::is_regular_file(value)) {
    auto buffer = llvm::MemoryBuffer::getFile(value);
    if (!buffer)
      return llvm::createStringError("--class-names: cannot read '" + value +
                                     "': " + buffer.getError().message());
    file = std::move(*buffer);
    file->getBuffer().split(parts, '\n');
    // A final newline ends the last name; it does not add one.
    if (!parts.empty() && parts.back().trim().empty())
      parts.pop_back();
  } else {
    value.split(parts, ',');
  }
  std::vector<std::string> names;
  for (auto [i, part] : llvm::enumerate(parts)) {
    llvm::StringRef name = part.trim();
    if (name.empty())
      return llvm::createStringError(
          "--class-names: name %zu is empty (give a comma-separated list or "
          "a file with one name per line)",
          i + 1);
    names.push_back(name.str());
  }
  return names;
}

/// The image of sample `i` as stored (uint8, H x W x C).
static ReportImage sampleImage(const Dataset &data, int64_t i) {
  ReportImage image{data.height, data.width, data.channels, {}};
  if (image.channels != 1 && image.channels != 3) {
    // Shown as its first channel.
    image.channels = 1;
    for (int64_t p = 0; p < data.height * data.width; ++p)
      image.pixels.push_back(data.image(i)[p * data.channels]);
    return image;
  }
  image.pixels.assign(data.image(i), data.image(i) + data.imageSize());
  return image;
}

llvm::Expected<ReportAnalysis> dlc::runtime::analyzeForReport(
    Executor &executor, const Dataset &data, const BatchAssembler &batches,
    int64_t offset, int64_t count, llvm::StringRef split,
    std::vector<std::string> classNames, size_t maxSamples) {
  const CompiledModel &model = executor.getModel();
  int64_t b = model.getBatchSize(), classes = model.getNumClasses();
  ReportAnalysis a;
  a.split = split.str();
  a.classNames = std::move(classNames);
  a.confusion.assign(classes * classes, 0);

  // Predictions; a last partial batch is padded with its first sample.
  struct Prediction {
    int64_t index;
    int32_t label, predicted;
    double confidence;
  };
  std::vector<Prediction> mistakes, right;
  llvm::SmallVector<uint32_t> rows(b);
  for (int64_t start = 0; start < count; start += b) {
    int64_t n = std::min(b, count - start);
    for (int64_t r = 0; r < b; ++r)
      rows[r] = uint32_t(start + (r < n ? r : 0));
    batches.assemble(rows, offset, executor.getInput(), executor.getLabels());
    std::vector<int32_t> labels(executor.getLabels(), executor.getLabels() + n);
    llvm::Expected<const float *> logits = executor.predict();
    if (!logits)
      return logits.takeError();
    for (int64_t r = 0; r < n; ++r) {
      const float *row = *logits + r * classes;
      int32_t best = int32_t(std::max_element(row, row + classes) - row);
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c)
        sum += std::exp(double(row[c]) - row[best]);
      Prediction p{offset + start + r, labels[r], best, 1 / sum};
      if (p.label >= 0 && p.label < classes)
        ++a.confusion[p.label * classes + best];
      (p.label == best ? right : mistakes).push_back(p);
    }
  }
  llvm::sort(mistakes, [](const Prediction &x, const Prediction &y) {
    return x.confidence != y.confidence ? x.confidence > y.confidence
                                        : x.index < y.index;
  });
  // At most two thirds of the grid for mistakes, so some correct ones show.
  size_t wrong = std::min(mistakes.size(), maxSamples * 2 / 3);
  size_t shown = std::min(maxSamples, wrong + right.size());
  for (size_t i = 0; i < shown; ++i) {
    const Prediction &p = i < wrong ? mistakes[i] : right[i - wrong];
    a.samples.push_back(
        {sampleImage(data, p.index), p.label, p.predicted, p.confidence});
  }

  // The first convolution's kernel [KH, KW, C, F]: the first rank-4
  // parameter (parameters are in layer order).
  for (auto [spec, tensor] :
       llvm::zip(model.getTensors(), executor.getTensors())) {
    if (spec.group != TensorGroup::Param || spec.shape.size() != 4 ||
        spec.dtype != DType::F32 || !model.getFeatures())
      continue;
    llvm::Expected<Tensor> host = tensor.download();
    if (!host)
      return host.takeError();
    int64_t kh = spec.shape[0], kw = spec.shape[1], c = spec.shape[2],
            f = spec.shape[3];
    // RGB filters of an RGB input; otherwise their mean over channels.
    int64_t shownChannels = c == 3 ? 3 : 1;
    const float *w = host->data<float>();
    for (int64_t o = 0; o < f; ++o) {
      std::vector<float> values;
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x) {
          const float *tap = w + ((y * kw + x) * c) * f + o;
          if (shownChannels == 3) {
            for (int64_t ch = 0; ch < 3; ++ch)
              values.push_back(tap[ch * f]);
          } else {
            double sum = 0;
            for (int64_t ch = 0; ch < c; ++ch)
              sum += tap[ch * f];
            values.push_back(float(sum / c));
          }
        }
      a.filters.push_back(imageFromValues(values, kh, kw, shownChannels));
    }
    a.filterTitle =
        llvm::formatv("{0}: {1} filters of {2}x{3}{4}", spec.name, f, kh, kw,
                      c == 3   ? " (RGB)"
                      : c == 1 ? ""
                               : llvm::formatv(" (mean of {0} input "
                                               "channels)",
                                               c)
                                     .str())
            .str();
    break;
  }

  // Feature maps of the first held-out sample.
  if (model.getFeatures() && count > 0) {
    std::fill(rows.begin(), rows.end(), 0);
    batches.assemble(rows, offset, executor.getInput(), executor.getLabels());
    int32_t label = executor.getLabels()[0];
    llvm::Expected<std::vector<const float *>> maps = executor.features();
    if (!maps)
      return maps.takeError();
    a.featureInput = sampleImage(data, offset);
    a.featureInputCaption =
        llvm::formatv("{0} sample 0 ({1})", split,
                      label >= 0 && size_t(label) < a.classNames.size()
                          ? a.classNames[label]
                          : "class " + std::to_string(label))
            .str();
    for (auto [spec, values] : llvm::zip(model.getFeatureMaps(), *maps)) {
      int64_t h = spec.shape[1], w = spec.shape[2], c = spec.shape[3];
      ReportAnalysis::FeatureMaps m{spec.name, h, w, c, {}};
      // Enough to see what a layer does without a page of thousands.
      int64_t shownChannels = std::min<int64_t>(c, 64);
      for (int64_t ch = 0; ch < shownChannels; ++ch) {
        std::vector<float> channel(h * w);
        for (int64_t p = 0; p < h * w; ++p)
          channel[p] = values[p * c + ch]; // Row 0 of the batch.
        m.images.push_back(imageFromValues(channel, h, w, 1));
      }
      a.featureMaps.push_back(std::move(m));
    }
  }
  return a;
}
