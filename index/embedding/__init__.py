"""Text -> normalized vectors: the Embedder protocol, the runtimes (OpenVINO, ONNX Runtime, torch), the vector cache."""
