"""Classical candidates: handcrafted image features with scikit-learn heads, exported to ONNX.

spec.py (the card's declarative feature set, plain pydantic), features.py (computes it: scikit-image
and mahotas, only in job and model processes), heads.py (scikit-learn heads, cross-validation, ONNX
export), train.py (the AutoML job that compares the heads).
"""
