//===- DLCDialect.td - The dlc dialect definition ----------*- tablegen -*-===//
//
// The dlc dialect: layer-level operations of convolutional networks on
// value-semantics tensors, the unit of differentiation and fusion in dlc.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_DLC_IR_DLCDIALECT_TD
#define DLC_DIALECT_DLC_IR_DLCDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def DLC_Dialect : Dialect {
  let name = "dlc";
  let cppNamespace = "::mlir::dlc";
  let summary = "Layer-level operations for training convolutional networks";
  let description = [{
    The `dlc` dialect models a convolutional network the way Keras describes
    it: one operation per layer (conv2d, dense, batch_norm, pooling, dropout,
    data augmentation, losses, metrics), on ranked, statically shaped `f32`
    tensors with value semantics.

    Conventions (Keras `channels_last`):
    * activations are NHWC: `tensor<N x H x W x C x f32>`;
    * convolution filters are HWCF: `tensor<KH x KW x C/groups x F x f32>`;
    * dense kernels are `tensor<K x M x f32>` (inputs x units);
    * integer class labels are `tensor<N x i32>`;
    * losses are mean-reduced over the batch and return `tensor<f32>`.

    Every operation verifies its operands and attributes and infers its
    result type (`InferTypeOpInterface`), so networks can be built without
    writing shapes by hand. Shape rules follow Keras/TensorFlow exactly; in
    particular `same` padding yields `ceil(in / stride)` and pads the extra
    row or column at the bottom/right.

    Randomized layers (dropout and the augmentation layers) take an optional
    `i64` key. Without a key they have inference semantics (identity, or a
    center crop for `random_crop`); with a key they draw from a counter-based
    generator keyed by `(key, stream, element)`, so a run is reproducible.
  }];
  let useDefaultAttributePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def DLC_PaddingMode : I32EnumAttr<"PaddingMode", "spatial padding scheme", [
    I32EnumAttrCase<"valid", 0>,
    I32EnumAttrCase<"same", 1>,
    I32EnumAttrCase<"explicit_", 2, "explicit">
  ]> {
  let cppNamespace = "::mlir::dlc";
  let genSpecializedAttr = 0;
}
def DLC_PaddingAttr : EnumAttr<DLC_Dialect, DLC_PaddingMode, "padding"> {
  let assemblyFormat = "`<` $value `>`";
}

def DLC_FlipMode : I32EnumAttr<"FlipMode", "image flip direction", [
    I32EnumAttrCase<"horizontal", 0>,
    I32EnumAttrCase<"vertical", 1>,
    I32EnumAttrCase<"horizontal_and_vertical", 2>
  ]> {
  let cppNamespace = "::mlir::dlc";
  let genSpecializedAttr = 0;
}
def DLC_FlipModeAttr : EnumAttr<DLC_Dialect, DLC_FlipMode, "flip_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

def DLC_FillMode : I32EnumAttr<"FillMode",
    "how points outside a translated image are filled", [
    I32EnumAttrCase<"reflect", 0>,
    I32EnumAttrCase<"wrap", 1>,
    I32EnumAttrCase<"nearest", 2>,
    I32EnumAttrCase<"constant", 3>
  ]> {
  let cppNamespace = "::mlir::dlc";
  let genSpecializedAttr = 0;
}
def DLC_FillModeAttr : EnumAttr<DLC_Dialect, DLC_FillMode, "fill_mode"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // DLC_DIALECT_DLC_IR_DLCDIALECT_TD
