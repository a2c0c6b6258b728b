"""The search space a dataset profile calls for: every choice the request left open, with its reason.

Small crops are searched at input sizes up to their native size; large fields of view are seen in
tiles at native scale (random crops in training, tiles averaged at prediction), so a nucleus keeps
its pixels instead of being shrunk with the whole field.
"""
from __future__ import annotations

# A median shorter side from this size up is a field of view: tiled, not shrunk.
LARGE_FIELD = 256
# Native-scale tile sizes for fields; the largest small-crop input size.
FIELD_TILES = (128, 192, 256)
MAX_CROP_INPUT = 128
CROP_SIZES = (32, 48, 64, 96, 128)
# Largest class over smallest from which accuracy misleads and balanced accuracy ranks trials.
IMBALANCED = 1.5
MAX_PAGES = 3


def shaped_request(request: dict, profile: dict) -> tuple[dict, list[str]]:
    """The request with its open choices filled from the profile, and one log line per choice made."""
    shaped, reasons = dict(request), []
    native = min(profile["heights"]["median"], profile["widths"]["median"])
    field = native >= LARGE_FIELD
    if not shaped.get("tilings"):
        shaped["tilings"] = ["native"] if field else ["none"]
    if not shaped.get("image_sizes"):
        shaped["image_sizes"] = list(FIELD_TILES) if field else crop_sizes(native)
        reasons.append(f"search: {'native-scale tiles' if field else 'input sizes'} {shaped['image_sizes']} px "
                       f"for images of {native} px (shorter side, median)")
    if not shaped.get("scales"):
        shaped["scales"] = ["range", "percentile"] if 16 in profile["bit_depths"] else ["range"]
        if len(shaped["scales"]) > 1:
            reasons.append("search: 16-bit images: per-image percentile normalisation as well as range scaling")
    if not shaped.get("pages"):
        shaped["pages"] = _all_pages(profile["pages"])
        if shaped["pages"]:
            reasons.append(f"search: reading pages {shaped['pages']} of each file as channels (set pages to choose)")
    if (shaped["pages"] or "native" in shaped["tilings"]) and shaped["dataset"].get("unlabelled_dir") \
            and shaped["semi_supervised_modes"] != ["none"]:
        # The pseudo-label pool (server/automl/pseudo.py) is read whole and from the first page only.
        shaped["semi_supervised_modes"] = ["none"]
        reasons.append("search: supervised trials only: pseudo-labels do not yet read pages or tiles")
    imbalanced = profile["imbalance_ratio"] >= IMBALANCED
    if not shaped.get("metric"):
        shaped["metric"] = "balanced_accuracy" if imbalanced else "accuracy"
        reasons.append(f"search: ranking trials by {shaped['metric']}"
                       + (f" (classes imbalanced {profile['imbalance_ratio']:.1f}:1; every trial weights its loss "
                          "by inverse class frequency)" if imbalanced else ""))
    elif imbalanced and shaped["metric"] == "accuracy":  # server/automl/search.py: imbalance
        reasons.append(f"search: ranking trials by accuracy as asked (classes imbalanced "
                       f"{profile['imbalance_ratio']:.1f}:1): no trial weights its loss, so the common classes count "
                       "as often as they occur")
    return shaped, reasons


def crop_sizes(native: int) -> list[int]:
    """Up to three input sizes up to the native size (itself included), capped at MAX_CROP_INPUT."""
    top = min(native, MAX_CROP_INPUT)
    sizes = [s for s in CROP_SIZES if s < top][-2:] + [max(top, CROP_SIZES[0])]
    return sorted(set(sizes))


def _all_pages(pages: list[int]) -> list[int]:
    """Every page when all files have the same 2 or 3 pages; else none chosen (the first page is read)."""
    if len(pages) == 1 and 1 < pages[0] <= MAX_PAGES:
        return list(range(pages[0]))
    return []
