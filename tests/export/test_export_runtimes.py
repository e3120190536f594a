"""Exported policies run outside rlforge and give rlforge's actions.

For every policy kind, rlforge_export_fixtures wrote KIND.pt, KIND.onnx, 1,000 held-out
observations and rlforge's own actions for them. Here each export runs in runtimes that are not
rlforge's: PyTorch's torch.jit.load, ONNX's checker, and OpenCV's DNN module (an ONNX runtime of
its own). Box actions must agree to 1e-5; discrete actions must be identical except where
rlforge's two best scores lie within 1e-5 of each other (a float-rounding tie).

Run: FIXTURES=DIR /usr/bin/python3 -m pytest tests/export/test_export_runtimes.py
"""
import os
import pathlib

import cv2  # python3-opencv; missing runtimes fail the test: scripts/install-deps.sh installs them
import numpy as np
import onnx  # python3-onnx
import pytest
import torch  # python3-torch

FIXTURES = pathlib.Path(os.environ.get("FIXTURES", "export_fixtures"))
KINDS = sorted(p.name[: -len(".onnx")] for p in FIXTURES.glob("*.onnx"))
TIE = 1e-5


def load(kind):
    observations = np.load(FIXTURES / f"{kind}.observations.npy")
    actions = np.load(FIXTURES / f"{kind}.actions.npy")
    scores_path = FIXTURES / f"{kind}.scores.npy"
    scores = np.load(scores_path) if scores_path.exists() else None
    return observations, actions, scores


def assert_same_actions(got, expected, scores, runtime):
    got = np.asarray(got)
    if scores is not None:
        got = got.reshape(-1).astype(np.int64)
        top2 = -np.sort(-scores, axis=1)[:, :2]
        clear = (top2[:, 0] - top2[:, 1]) > TIE
        disagree = (got != expected) & clear
        assert not disagree.any(), f"{runtime}: {disagree.sum()} of {len(expected)} actions differ"
    else:
        got = got.reshape(expected.shape)
        difference = np.abs(got.astype(np.float64) - expected).max()
        assert difference <= 1e-5, f"{runtime}: max |difference| {difference}"


def test_fixtures_cover_every_kind():
    assert len(KINDS) >= 11, f"expected every policy kind in {FIXTURES}, found {KINDS}"


@pytest.mark.parametrize("kind", KINDS)
def test_torchscript_in_python(kind):
    observations, actions, scores = load(kind)
    module = torch.jit.load(str(FIXTURES / f"{kind}.pt"))
    with torch.no_grad():
        got = module(torch.from_numpy(observations)).numpy()
    assert_same_actions(got, actions, scores, "torch.jit")
    extra = {"rlforge.yaml": ""}
    torch.jit.load(str(FIXTURES / f"{kind}.pt"), _extra_files=extra)
    assert b"algorithm:" in extra["rlforge.yaml"]


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_checker(kind):
    model = onnx.load(str(FIXTURES / f"{kind}.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 13
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["outputs"] == "action"


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_in_opencv(kind):
    observations, actions, scores = load(kind)
    net = cv2.dnn.readNetFromONNX(str(FIXTURES / f"{kind}.onnx"))
    # OpenCV's DNN computes in float32 and takes float32 input.
    net.setInput(observations.astype(np.float32))
    got = net.forward()
    assert_same_actions(got, actions, scores, "OpenCV DNN")
