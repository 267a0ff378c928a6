"""Export stage: the trained Keras model -> every deployable artifact, verified, in a manifest.

One file per format (`saved_model.py`, `tflite.py`, `onnx.py`) behind the recipe
registry in `recipes.py`; `stage.py` runs each recipe in its own subprocess.
"""
