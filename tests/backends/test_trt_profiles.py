"""TensorRT optimization profiles computed from the registry's shape rules, and routing of shapes."""

from __future__ import annotations

import pytest

from hpi.backends.tensorrt.profiles import (
    Profile, ProfileError, ShapeRange, onnxruntime_trt_profile_options, profiles_for_rules, route,
)
from hpi.models.registry import InputRule, get_model_spec

DET = get_model_spec("PP-OCRv4_mobile_det").inputs
REC = get_model_spec("PP-OCRv4_mobile_rec").inputs
CLS = get_model_spec("PP-OCRv2_mobile_textline_ori").inputs


def _by_name(profiles):
    return {p.name: p["x"] for p in profiles}


def test_det_profiles_are_aspect_buckets_inside_the_rule():
    profiles = profiles_for_rules(DET)
    ranges = _by_name(profiles)
    assert list(ranges) == ["square", "portrait", "landscape"]
    rule = DET[0]
    for r in ranges.values():
        assert r.min == rule.min_shape
        assert all(lo <= hi for lo, hi in zip(r.max, rule.max_shape))
        assert all(d % rule.multiple_of == 0 for d in r.opt[2:])
    assert ranges["square"].max == rule.max_shape  # the catch-all spans the whole rule
    assert ranges["square"].opt == (1, 3, 960, 960)
    assert ranges["portrait"].opt == (1, 3, 960, 736) and ranges["portrait"].max == (1, 3, 1920, 960)
    assert ranges["landscape"].opt == (1, 3, 736, 960) and ranges["landscape"].max == (1, 3, 960, 1920)


def test_det_limit_option_moves_the_buckets():
    ranges = _by_name(profiles_for_rules(DET, {"det_limit": 1280}))
    assert ranges["square"].opt == (1, 3, 1280, 1280)
    assert ranges["portrait"].max == (1, 3, 1920, 1280)
    # A limit at the rule's max leaves only the catch-all.
    assert [p.name for p in profiles_for_rules(DET, {"det_limit": 4000})] == ["square"]


def test_rec_profiles_are_width_buckets_up_to_the_longest_line():
    ranges = _by_name(profiles_for_rules(REC))
    assert list(ranges) == ["width<=320", "width<=960", "width<=3200"]
    for r in ranges.values():
        assert r.min == (1, 3, 48, 32) and r.max[0] == 16 and r.opt[0] == 6
        assert r.min[2] == r.opt[2] == r.max[2] == 48
    assert ranges["width<=320"].opt == (6, 3, 48, 320)
    assert ranges["width<=960"].opt == (6, 3, 48, 640)
    assert ranges["width<=3200"].max == (16, 3, 48, 3200)


def test_rec_options_batch_and_widths():
    ranges = _by_name(profiles_for_rules(REC, {"rec_widths": [640, 5000], "max_batch": 4}))
    assert list(ranges) == ["width<=640", "width<=3200"]  # clipped to the rule's max
    assert all(r.max[0] == 4 and r.opt[0] == 4 for r in ranges.values())


def test_cls_fixed_shape_is_one_batch_profile():
    profiles = profiles_for_rules(CLS)
    assert len(profiles) == 1
    assert profiles[0]["x"] == ShapeRange((1, 3, 48, 192), (6, 3, 48, 192), (32, 3, 48, 192))
    assert profiles_for_rules(CLS, {"max_batch": 8})[0]["x"].max == (8, 3, 48, 192)


def test_explicit_profiles_round_trip():
    custom = Profile("only", (("x", ShapeRange((1, 3, 32, 32), (1, 3, 64, 64), (1, 3, 128, 128))),))
    again = profiles_for_rules(DET, {"profiles": [custom.as_dict()]})
    assert again == [custom]
    with pytest.raises(ProfileError, match="must look like"):
        profiles_for_rules(DET, {"profiles": [{"inputs": {"x": {"min": [1]}}}]})


@pytest.mark.parametrize("bad", [((1, 3, 64, 64), (1, 3, 32, 32), (1, 3, 128, 128)), ((1, 3), (1, 3, 1), (1, 3, 1))])
def test_invalid_ranges_are_rejected(bad):
    with pytest.raises(ProfileError):
        ShapeRange(*bad)


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((1, 3, 960, 960), "square"),
        ((1, 3, 960, 736), "portrait"),
        ((1, 3, 1280, 704), "portrait"),
        ((1, 3, 1888, 960), "square"),  # fits portrait too, but the square opt is nearer
        ((1, 3, 736, 960), "landscape"),
        ((1, 3, 640, 1920), "landscape"),
        ((1, 3, 1920, 1920), "square"),
        ((1, 3, 1280, 1216), "square"),  # both sides above the 960 limit: only the catch-all fits
        ((1, 3, 32, 32), "portrait"),  # fits all; nearest opt wins (ties broken deterministically)
    ],
)
def test_route_det(shape, expected):
    profiles = profiles_for_rules(DET)
    assert profiles[route(profiles, {"x": shape})].name == expected


@pytest.mark.parametrize(
    "shape, expected",
    [((6, 3, 48, 320), "width<=320"), ((1, 3, 48, 100), "width<=320"), ((16, 3, 48, 321), "width<=960"),
     ((6, 3, 48, 960), "width<=960"), ((2, 3, 48, 961), "width<=3200"), ((1, 3, 48, 3200), "width<=3200")],
)
def test_route_rec(shape, expected):
    profiles = profiles_for_rules(REC)
    assert profiles[route(profiles, {"x": shape})].name == expected


@pytest.mark.parametrize(
    "shapes",
    [{"x": (1, 3, 2000, 640)}, {"x": (2, 3, 960, 960)}, {"x": (1, 3, 16, 64)}, {"x": (1, 3, 960)}, {"y": (1, 3, 64, 64)}],
)
def test_route_none_fits_lists_profiles(shapes):
    profiles = profiles_for_rules(DET)
    with pytest.raises(ProfileError) as info:
        route(profiles, shapes)
    message = str(info.value)
    assert "fit none" in message
    for profile in profiles:
        assert profile.name in message
    assert "max (1, 3, 1920, 1920)" in message


def test_route_rec_batch_too_large():
    with pytest.raises(ProfileError, match="width<=3200"):
        route(profiles_for_rules(REC), {"x": (17, 3, 48, 320)})


def test_every_typical_shape_routes():
    for spec_name in ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec", "PP-OCRv2_mobile_textline_ori"):
        rules = get_model_spec(spec_name).inputs
        profiles = profiles_for_rules(rules)
        for shape in rules[0].typical_shapes + (rules[0].min_shape, rules[0].opt_shape, rules[0].max_shape):
            assert profiles[route(profiles, {"x": shape})].contains({"x": shape})


def test_multi_input_rules_one_joint_profile():
    a = InputRule("a", (None, 4), ((1, 4),), (1, 4), (2, 4), (8, 4))
    b = InputRule("b", (None, 2), ((1, 2),), (1, 2), (2, 2), (8, 2))
    profiles = profiles_for_rules((a, b))
    assert len(profiles) == 1 and profiles[0].input_names == ["a", "b"]
    assert route(profiles, {"a": (3, 4), "b": (3, 2)}) == 0


def test_onnxruntime_trt_profile_options_format():
    options = onnxruntime_trt_profile_options(profiles_for_rules(CLS)[0])
    assert options == {
        "trt_profile_min_shapes": "x:1x3x48x192",
        "trt_profile_opt_shapes": "x:6x3x48x192",
        "trt_profile_max_shapes": "x:32x3x48x192",
    }


def _onnx_with_inputs(path, inputs):
    """A tiny ONNX graph whose inputs have the given (name, dims) (-1: dynamic); the output is the first input."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    values = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [d if d > 0 else f"d{name}{i}"
                                                                      for i, d in enumerate(dims)])
              for name, dims in inputs]
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Identity", [inputs[0][0]], ["out"])], "g", values, [out])
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_profiles_of_a_model_directory_without_rules(tmp_path):
    """PaddleX vision models hpi ships no rules for: fixed dims as they are, a dynamic batch 1..max_batch, the
    dynamic sides of an image input 32..2048 (opt 640); detectors' im_shape / scale_factor follow the batch."""
    from hpi.backends.tensorrt.profiles import DYNAMIC_SIDE, onnx_input_profiles

    detector = _onnx_with_inputs(tmp_path / "det.onnx", [("image", [-1, 3, 320, 320]), ("scale_factor", [-1, 2])])
    [profile] = onnx_input_profiles(detector)
    assert profile["image"] == ShapeRange((1, 3, 320, 320), (1, 3, 320, 320), (1, 3, 320, 320))
    assert profile["scale_factor"].max == (1, 2) and profile.name == "static"
    [batched] = onnx_input_profiles(detector, max_batch=4)
    assert batched["image"].max == (4, 3, 320, 320) and batched["scale_factor"].max == (4, 2)
    segmenter = _onnx_with_inputs(tmp_path / "seg.onnx", [("x", [-1, 3, -1, -1])])
    [profile] = onnx_input_profiles(segmenter)
    assert profile["x"].min == (1, 3, DYNAMIC_SIDE[0], DYNAMIC_SIDE[0])
    assert profile["x"].opt == (1, 3, DYNAMIC_SIDE[1], DYNAMIC_SIDE[1])
    assert profile["x"].max == (1, 3, DYNAMIC_SIDE[2], DYNAMIC_SIDE[2]) and profile.name == "model_dims"
    odd = _onnx_with_inputs(tmp_path / "odd.onnx", [("tokens", [1, -1])])
    with pytest.raises(ProfileError, match="options\\['profiles'\\]"):
        onnx_input_profiles(odd)
