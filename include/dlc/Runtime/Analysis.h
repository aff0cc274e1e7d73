//===- Analysis.h - What the report shows beyond the curves -----*- C++ -*-===//
//
// Runs predict over held-out samples (confusion matrix, per-class
// accuracy, sample images with their predictions), reads the first
// convolution's filters and runs features (each convolution's output) on
// one sample, for report.html.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_ANALYSIS_H
#define DLC_RUNTIME_ANALYSIS_H

#include "dlc/Runtime/Data/Dataset.h"
#include "dlc/Runtime/Executor.h"
#include "dlc/Runtime/Monitor/Report.h"

namespace dlc::runtime {

/// Class names for `numClasses` classes: `given` (--class-names) if not
/// empty, else the model's, else those of a known dataset (Fashion-MNIST,
/// CIFAR-10, MNIST, recognized in `dataSpec` and `dataDescription`), else
/// class_0, class_1, ...
std::vector<std::string> classNamesFor(llvm::ArrayRef<std::string> given,
                                       llvm::ArrayRef<std::string> model,
                                       llvm::StringRef dataSpec,
                                       llvm::StringRef dataDescription,
                                       int64_t numClasses);

/// Parses --class-names: a file with one name per line when `value` names
/// one, else a comma-separated list.
llvm::Expected<std::vector<std::string>> parseClassNames(llvm::StringRef value);

/// The analysis of samples [offset, offset + count) of `data` (assembled
/// by `batches`), named `split`. The model must have predict; without
/// features (or a convolution) there are no filters and feature maps.
/// `maxSamples` bounds the image grid.
llvm::Expected<ReportAnalysis>
analyzeForReport(Executor &executor, const Dataset &data,
                 const BatchAssembler &batches, int64_t offset, int64_t count,
                 llvm::StringRef split, std::vector<std::string> classNames,
                 size_t maxSamples = 40);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_ANALYSIS_H
