"""`edge-cnn`: a small bitmap CNN built from parameters, the family `sketch-edge tune` searches.

Blocks of convolution, batch norm (folded into the convolution at export) and
ReLU (fused into it), each block halving the resolution and doubling the
channels; a flatten or global-average head; dropout; softmax. Every parameter
is one a deployment trades accuracy against int8 latency with (README, "Models").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sketch_edge.models.cnn import INPUT_NAME, OUTPUT_NAME
from sketch_edge.models.registry import ModelSpec, register_family

if TYPE_CHECKING:
    import keras

CONVS = ("plain", "separable")
POOLS = ("max", "stride")
HEADS = ("flatten", "gap")


@register_family("edge-cnn", input_kind="bitmap")
@dataclass(frozen=True)
class EdgeCNN:
    # The defaults are the model `sketch-edge tune` recommended within 50 us (LiteRT int8) on the real 10-class
    # subset: the best validation top-1 of the 9 candidates (README, "What the tuner found").
    width: int = 16  # channels of the first block; each block doubles them
    depth: int = 3  # blocks, each halving the 28x28 resolution
    convs: int = 2  # convolutions per block
    kernel: int = 3
    conv: str = "plain"  # "separable": depthwise + pointwise after the first convolution
    pool: str = "max"  # "stride": the block's first convolution strides by 2 instead of a max pool
    head: str = "flatten"  # "gap": global average pooling before the dense layers
    dense: int = 128  # hidden dense units (0: none)
    dropout: float = 0.3
    augment: float = 2.0  # 0 none; 1 mirror + 5% shifts; s: shifts of 5% x s
    epochs: int = 40
    learning_rate: float = 2e-3
    smoothing: float = 0.1  # label smoothing; 0 for a teacher: a smoothed teacher's soft targets say less (Mueller et al., 2019)

    def check(self) -> str | None:
        problems = [
            (self.width < 1, "width must be at least 1"),
            (not 1 <= self.depth <= 4, "depth must be 1-4 (each block halves 28x28)"),
            (self.convs < 1, "convs must be at least 1"),
            (self.kernel < 1 or self.kernel % 2 == 0, "kernel must be a positive odd number"),
            (self.conv not in CONVS, f"conv must be one of {', '.join(CONVS)}"),
            (self.pool not in POOLS, f"pool must be one of {', '.join(POOLS)}"),
            (self.head not in HEADS, f"head must be one of {', '.join(HEADS)}"),
            (self.dense < 0, "dense must be 0 or more"),
            (not 0 <= self.dropout < 1, "dropout must be in [0, 1)"),
            (self.augment < 0, "augment must be 0 or more"),
            (self.epochs < 1, "epochs must be at least 1"),
            (not 0 < self.learning_rate < 1, "learning_rate must be in (0, 1)"),
            (not 0 <= self.smoothing < 1, "smoothing must be in [0, 1)"),
        ]
        return "; ".join(text for bad, text in problems if bad) or None

    def spec(self, name: str) -> ModelSpec:
        return ModelSpec(
            name=name,
            input_kind="bitmap",
            build=self.build,
            description=f"{self.depth} block(s) of {self.convs} {self.conv} {self.kernel}x{self.kernel} conv from {self.width} channels, "
            f"{self.pool} pooling, {self.head} head",
            epochs=self.epochs,
            batch_size=128,
            learning_rate=self.learning_rate,
            augment=self.augment,
            label_smoothing=self.smoothing,
            patience=self.epochs,  # none: the epochs are a parameter, and the cosine schedule's low-rate end is where it pays
        )

    def build(self, num_classes: int) -> keras.Model:
        import keras
        from keras import layers

        inputs = keras.Input(shape=(28, 28, 1), name=INPUT_NAME)
        x = layers.Rescaling(1.0 / 255.0)(inputs)
        for block in range(self.depth):
            filters = self.width * 2**block
            for index in range(self.convs):
                separable = self.conv == "separable" and (block, index) != (0, 0)  # one input channel: nothing to separate
                strides = 2 if self.pool == "stride" and index == 0 else 1
                conv = layers.SeparableConv2D if separable else layers.Conv2D
                x = conv(filters, self.kernel, strides=strides, padding="same", use_bias=False)(x)
                x = layers.BatchNormalization(momentum=0.9)(x)
                x = layers.ReLU()(x)
            if self.pool == "max":
                x = layers.MaxPooling2D()(x)
        x = layers.GlobalAveragePooling2D()(x) if self.head == "gap" else layers.Flatten()(x)
        if self.dense:
            x = layers.Dropout(self.dropout)(x)
            x = layers.Dense(self.dense, activation="relu")(x)
        x = layers.Dropout(self.dropout)(x)
        outputs = layers.Dense(num_classes, activation="softmax", name=OUTPUT_NAME)(x)
        return keras.Model(inputs, outputs, name="edge_cnn")
