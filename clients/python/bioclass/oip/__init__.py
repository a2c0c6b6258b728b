"""Generated stubs of the Open Inference Protocol (package `inference`), used by the server.

Clients should use tritonclient[grpc]. Never import these stubs in a process that imports
tritonclient: both register `inference.*` messages in protobuf's default pool.
"""
