"""The Open Inference Protocol (KServe v2 / Triton gRPC) over the same service layer as our API."""
