"""rlforge.load_policy and rlforge.train: exported policies on NumPy observations, training from
Python. Needs a build with LibTorch, and the exported policies that ctest's export_fixtures
test writes (FIXTURES names the folder) with rlforge's own actions for 1,000 observations each.
"""
import os
import pathlib

import numpy as np
import pytest

import rlforge

FIXTURES = pathlib.Path(os.environ.get("FIXTURES", "export_fixtures"))
KINDS = sorted(p.name[: -len(".pt")] for p in FIXTURES.glob("*.pt"))
CONFIGS = pathlib.Path(__file__).resolve().parents[2] / "configs"


def test_fixtures_are_there():
    assert len(KINDS) >= 11, f"no exported policies in {FIXTURES}: run ctest's export_fixtures first"


@pytest.mark.parametrize("kind", KINDS)
def test_load_policy_acts_as_rlforge(kind):
    policy = rlforge.load_policy(FIXTURES / f"{kind}.pt")
    observations = np.load(FIXTURES / f"{kind}.observations.npy")
    expected = np.load(FIXTURES / f"{kind}.actions.npy")
    assert policy.observation_shape == observations.shape[1:]
    actions = policy(observations)
    if policy.discrete:
        assert actions.dtype == np.int64 and actions.shape == (len(observations),)
        scores = np.load(FIXTURES / f"{kind}.scores.npy")
        top2 = -np.sort(-scores, axis=1)[:, :2]
        clear = (top2[:, 0] - top2[:, 1]) > 1e-5  # a float-rounding tie may go either way
        assert not ((actions != expected) & clear).any()
        assert isinstance(policy(observations[0]), int)
    else:
        assert actions.dtype == np.float32 and actions.shape == expected.shape
        assert np.abs(actions - expected).max() <= 1e-5
        single = policy(observations[0])
        assert single.shape == (policy.action_size,)
        assert np.abs(single - expected[0]).max() <= 1e-5


def test_policy_takes_other_dtypes_and_rejects_other_shapes():
    policy = rlforge.load_policy(FIXTURES / "ppo_discrete.pt")
    observations = np.load(FIXTURES / "ppo_discrete.observations.npy")
    assert (policy(observations.astype(np.float64)) == policy(observations)).all()
    assert (policy(observations.tolist()) == policy(observations)).all()
    with pytest.raises(ValueError, match=r"shape \(3,\): this policy takes one observation of shape \(4,\)"):
        policy(np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        policy(np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="numeric array"):
        policy("not an observation")
    assert "ppo" in repr(policy) and policy.metadata["algorithm"] == "ppo"


def test_load_policy_errors(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a policy")
    with pytest.raises(ValueError, match="junk.pt: not an rlforge exported policy"):
        rlforge.load_policy(junk)
    with pytest.raises(ValueError, match="missing.pt"):
        rlforge.load_policy(tmp_path / "missing.pt")
    with pytest.raises(RuntimeError, match="no checkpoints/best.pt or checkpoints/last.pt"):
        rlforge.load_policy(tmp_path)  # a directory that is not a run


def test_train_then_act_in_an_env(tmp_path, capsys):
    run = rlforge.train(CONFIGS / "ppo_cartpole.yaml", ["trainer.total_steps=3000", "trainer.eval_every=0"],
                        run_dir=tmp_path / "run")
    assert run == tmp_path / "run" and (run / "checkpoints" / "last.pt").exists()
    assert "run directory:" in capsys.readouterr().out  # the trainer's progress reached stdout
    policy = rlforge.load_policy(run)  # exports RUN/policy.pt first
    assert (run / "policy.pt").exists()
    env = rlforge.make("CartPole-v1")
    observation, _ = env.reset(seed=2_000_001)
    for _ in range(20):
        action = policy(observation)
        assert env.action_space.contains(action)
        observation, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break


def test_train_reports_a_bad_config():
    with pytest.raises(RuntimeError, match="unknown key 'agent.n_step'"):
        rlforge.train(CONFIGS / "ppo_cartpole.yaml", ["agent.n_step=3"], echo=False)
