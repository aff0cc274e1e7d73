//===- dlc-onnx-pack.cpp - ONNX text format to binary, for tests ----------===//
//
// Test utility: reads an ONNX ModelProto in protobuf text format (readable,
// reviewable test inputs) and writes the binary .onnx file that
// `dlc compile` reads. `--unpack` goes the other way, to inspect a model.
//
//   dlc-onnx-pack model.textproto -o model.onnx
//   dlc-onnx-pack --unpack model.onnx
//
//===----------------------------------------------------------------------===//

#include "onnx/onnx_pb.h"

#include <google/protobuf/text_format.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char **argv) {
  std::string input, output = "-";
  bool unpack = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-o") && i + 1 < argc)
      output = argv[++i];
    else if (!std::strcmp(argv[i], "--unpack"))
      unpack = true;
    else
      input = argv[i];
  }
  if (input.empty()) {
    std::cerr << "usage: dlc-onnx-pack [--unpack] INPUT [-o OUTPUT]\n";
    return 2;
  }
  std::ifstream in(input, std::ios::binary);
  if (!in) {
    std::cerr << "dlc-onnx-pack: cannot read " << input << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  onnx::ModelProto model;
  std::string result;
  if (unpack) {
    if (!model.ParseFromString(text.str())) {
      std::cerr << "dlc-onnx-pack: " << input << " is not a ModelProto\n";
      return 1;
    }
    google::protobuf::TextFormat::PrintToString(model, &result);
  } else {
    if (!google::protobuf::TextFormat::ParseFromString(text.str(), &model)) {
      std::cerr << "dlc-onnx-pack: " << input
                << " is not a ModelProto in text format\n";
      return 1;
    }
    model.SerializeToString(&result);
  }
  if (output == "-") {
    std::cout << result;
    return 0;
  }
  std::ofstream out(output, std::ios::binary);
  out << result;
  return out ? 0 : 1;
}
