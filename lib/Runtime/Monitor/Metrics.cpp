//===- Metrics.cpp - Per-epoch metrics: records, CSV, table ---------------===//
//
// Accuracies are fractions in [0, 1] everywhere in files (CSV, TensorBoard,
// JSON) as Keras writes them; only human-facing text shows percentages.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Monitor/Metrics.h"
#include "dlc/Runtime/Support.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace dlc::runtime;

/// Numbers in files must read back exactly.
static std::string exact(double x) { return formatExact(x); }

std::string
dlc::runtime::formatMetricsCsv(llvm::ArrayRef<EpochRecord> history) {
  std::string s = "epoch,step,loss,accuracy,val_loss,val_accuracy,test_loss,"
                  "test_accuracy,learning_rate,images_per_sec,seconds\n";
  auto optional = [](const std::optional<Metric> &m, bool accuracy) {
    if (!m)
      return std::string();
    return exact(accuracy ? m->accuracy : m->loss);
  };
  for (const EpochRecord &r : history)
    s += llvm::formatv("{0},{1},{2},{3},{4},{5},{6},{7},{8},{9},{10}\n",
                       r.epoch, r.step, exact(r.train.loss),
                       exact(r.train.accuracy), optional(r.validation, false),
                       optional(r.validation, true), optional(r.test, false),
                       optional(r.test, true), exact(r.learningRate),
                       llvm::formatv("{0:F1}", r.imagesPerSecond),
                       llvm::formatv("{0:F3}", r.seconds))
             .str();
  return s;
}

static std::string percent(double fraction) {
  return llvm::formatv("{0:F2}%", 100.0 * fraction);
}

void dlc::runtime::printEpochTable(llvm::raw_ostream &os,
                                   llvm::ArrayRef<EpochRecord> history) {
  // Single spaces between columns: with validation and test columns a row
  // is 79 characters, so the table fits an 80-column terminal.
  bool val = llvm::any_of(history, [](auto &r) { return r.validation; });
  bool test = llvm::any_of(history, [](auto &r) { return r.test; });
  os << llvm::formatv("{0,5} {1,7} {2,7}", "epoch", "loss", "acc");
  if (val)
    os << llvm::formatv(" {0,8} {1,7}", "val_loss", "val_acc");
  if (test)
    os << llvm::formatv(" {0,9} {1,8}", "test_loss", "test_acc");
  os << llvm::formatv(" {0,8} {1,5} {2,6}\n", "lr", "img/s", "time");
  for (const EpochRecord &r : history) {
    os << llvm::formatv("{0,5} {1,7:F4} {2,7}", r.epoch, r.train.loss,
                        percent(r.train.accuracy));
    if (val) {
      if (r.validation)
        os << llvm::formatv(" {0,8:F4} {1,7}", r.validation->loss,
                            percent(r.validation->accuracy));
      else
        os << llvm::formatv(" {0,8} {1,7}", "-", "-");
    }
    if (test) {
      if (r.test)
        os << llvm::formatv(" {0,9:F4} {1,8}", r.test->loss,
                            percent(r.test->accuracy));
      else
        os << llvm::formatv(" {0,9} {1,8}", "-", "-");
    }
    // Whole seconds from 1000 s on, to keep the column's width.
    std::string seconds = r.seconds < 999.95
                              ? llvm::formatv("{0:F1}s", r.seconds).str()
                              : llvm::formatv("{0:F0}s", r.seconds).str();
    // Thousands from 100000 img/s on, for the same reason.
    std::string speed =
        r.imagesPerSecond < 99999.5
            ? llvm::formatv("{0:F0}", r.imagesPerSecond).str()
            : llvm::formatv("{0:F0}k", r.imagesPerSecond / 1000).str();
    os << llvm::formatv(" {0,8} {1,5} {2,6}\n", formatNumber(r.learningRate, 3),
                        speed, seconds);
  }
}

std::string dlc::runtime::formatEpochLine(const EpochRecord &r,
                                          int64_t epochs) {
  // Groups of fields joined by two spaces; a group that would pass column
  // 79 starts an indented continuation line, so that a log with validation
  // and test metrics does not wrap on an 80-column terminal (a group is not
  // split: train, validation, test and speed each stay on one line).
  llvm::SmallVector<std::string> fields;
  fields.push_back(llvm::formatv("epoch {0}/{1}  loss {2:F4}  acc {3}", r.epoch,
                                 epochs, r.train.loss,
                                 percent(r.train.accuracy)));
  if (r.validation)
    fields.push_back(llvm::formatv("val_loss {0:F4}  val_acc {1}",
                                   r.validation->loss,
                                   percent(r.validation->accuracy)));
  if (r.test)
    fields.push_back(llvm::formatv("test_loss {0:F4}  test_acc {1}",
                                   r.test->loss, percent(r.test->accuracy)));
  fields.push_back(llvm::formatv("lr {0}  {1:F0} img/s  {2:F1}s",
                                 formatNumber(r.learningRate, 3),
                                 r.imagesPerSecond, r.seconds));
  constexpr size_t kWidth = 79;
  std::string s = fields.front();
  size_t lineStart = 0;
  for (const std::string &field : llvm::drop_begin(fields)) {
    if (s.size() - lineStart + 2 + field.size() > kWidth) {
      s += "\n";
      lineStart = s.size();
      s += "   ";
    } else {
      s += "  ";
    }
    s += field;
  }
  return s;
}

/// A JSON number that reads back exactly; null for NaN and infinities,
/// which JSON cannot represent.
static std::string jsonNumber(double x) {
  return std::isfinite(x) ? exact(x) : "null";
}

/// Reads a number written by jsonNumber (null reads as NaN).
static std::optional<double> readNumber(const llvm::json::Object &o,
                                        llvm::StringRef key) {
  const llvm::json::Value *v = o.get(key);
  if (!v)
    return std::nullopt;
  if (v->getAsNull())
    return std::nan("");
  return v->getAsNumber();
}

std::string dlc::runtime::historyToJson(llvm::ArrayRef<EpochRecord> history) {
  // Numbers are formatted here, not by llvm::json, so they stay exact.
  std::string s = "[";
  for (const EpochRecord &r : history) {
    if (s.size() > 1)
      s += ",";
    s += llvm::formatv("{{\"epoch\":{0},\"step\":{1},\"loss\":{2},"
                       "\"accuracy\":{3},\"learning_rate\":{4},"
                       "\"images_per_sec\":{5},\"seconds\":{6}",
                       r.epoch, r.step, jsonNumber(r.train.loss),
                       jsonNumber(r.train.accuracy), jsonNumber(r.learningRate),
                       jsonNumber(r.imagesPerSecond), jsonNumber(r.seconds))
             .str();
    if (r.validation)
      s += llvm::formatv(",\"val_loss\":{0},\"val_accuracy\":{1}",
                         jsonNumber(r.validation->loss),
                         jsonNumber(r.validation->accuracy))
               .str();
    if (r.test)
      s += llvm::formatv(",\"test_loss\":{0},\"test_accuracy\":{1}",
                         jsonNumber(r.test->loss), jsonNumber(r.test->accuracy))
               .str();
    s += "}";
  }
  return s + "]";
}

llvm::Expected<std::vector<EpochRecord>>
dlc::runtime::historyFromJson(llvm::StringRef json) {
  std::vector<EpochRecord> history;
  if (json.empty())
    return history;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(json);
  if (!parsed)
    return parsed.takeError();
  const llvm::json::Array *array = parsed->getAsArray();
  if (!array)
    return llvm::createStringError("the metrics history is not an array");
  for (const llvm::json::Value &v : *array) {
    const llvm::json::Object *o = v.getAsObject();
    if (!o)
      return llvm::createStringError("a metrics record is not an object");
    EpochRecord r;
    r.epoch = o->getInteger("epoch").value_or(0);
    r.step = o->getInteger("step").value_or(0);
    r.train = {readNumber(*o, "loss").value_or(0),
               readNumber(*o, "accuracy").value_or(0)};
    r.learningRate = readNumber(*o, "learning_rate").value_or(0);
    r.imagesPerSecond = readNumber(*o, "images_per_sec").value_or(0);
    r.seconds = readNumber(*o, "seconds").value_or(0);
    if (auto loss = readNumber(*o, "val_loss"))
      r.validation = Metric{*loss, readNumber(*o, "val_accuracy").value_or(0)};
    if (auto loss = readNumber(*o, "test_loss"))
      r.test = Metric{*loss, readNumber(*o, "test_accuracy").value_or(0)};
    history.push_back(r);
  }
  return history;
}
