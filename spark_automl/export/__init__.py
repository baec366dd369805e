"""spark_automl.export: the final model outside Python (ONNX)."""
