"""Regenerates the Keras 3 examples in this directory with Keras itself.

dlc does not depend on Keras; these files were produced with Keras 3.15
(KERAS_BACKEND=jax) and are kept as real `model.to_json()` output:

    KERAS_BACKEND=jax python generate_keras3.py
"""
import json

import keras
from keras import layers


def save(model, path):
    # to_json() is the format under test; indent it so that errors point
    # at readable lines.
    with open(path, "w") as f:
        f.write(json.dumps(json.loads(model.to_json()), indent=2) + "\n")


# The Keras mnist_cnn example (Sequential), compiled as in the example.
mnist_cnn = keras.Sequential(
    [
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ],
    name="mnist_cnn",
)
mnist_cnn.compile(
    loss="sparse_categorical_crossentropy",
    optimizer=keras.optimizers.Adam(learning_rate=0.001),
    metrics=["accuracy"],
)
save(mnist_cnn, "mnist_cnn.json")

keras.backend.clear_session()

# A small residual network (Functional) with the Keras preprocessing and
# merge layers dlc supports.
inputs = keras.Input(shape=(32, 32, 3), name="image")
x = layers.Rescaling(1.0 / 255)(inputs)
x = layers.RandomFlip("horizontal")(x)
x = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
x = layers.BatchNormalization()(x)
x = layers.ReLU()(x)
y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
y = layers.BatchNormalization()(y)
y = layers.ReLU()(y)
y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
y = layers.BatchNormalization()(y)
x = layers.Add()([x, y])
x = layers.ReLU()(x)
b = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
c = layers.AveragePooling2D(pool_size=2)(x)
x = layers.Concatenate()([b, c])
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(10)(x)
resnet = keras.Model(inputs, outputs, name="residual_block")
resnet.compile(
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    metrics=["accuracy"],
)
save(resnet, "residual_block.json")
