"""The Open Inference Protocol (KServe v2 / Triton gRPC) over the same service layer as our API.

dataplane.py says what each call does and hands inference to ClassifierService; tensors.py turns
OIP tensors into numpy arrays. The servicer is server/grpc/oip_servicer.py.
"""
