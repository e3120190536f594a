"""rlforge's environments with Gymnasium 1.x's API.

    import rlforge
    env = rlforge.make("CartPole-v1")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

    envs = rlforge.make_vec("LunarLander-v3", num_envs=16, threads=2)

The simulators are rlforge's C++ ones (the same seed gives Gymnasium's initial state); see
docs/python.md for the vector semantics, errors and what differs from Gymnasium.
"""

from enum import Enum

from ._envs import (  # noqa: F401  (re-exported)
    Box,
    Discrete,
    Env,
    EnvError,
    EnvSpec,
    MultiDiscrete,
    Space,
    VectorEnv,
    abi_tag,
    env_options,
    load_plugin,
    registered_envs,
)

__all__ = [
    "AutoresetMode", "Box", "Discrete", "Env", "EnvError", "EnvSpec", "MultiDiscrete", "Space",
    "VectorEnv", "env_options", "load_plugin", "make", "make_vec", "registered_envs",
]


class AutoresetMode(Enum):
    """Gymnasium 1.x's autoreset modes (same values); rlforge's vector env is SAME_STEP."""

    NEXT_STEP = "NextStep"
    SAME_STEP = "SameStep"
    DISABLED = "Disabled"


def _options(max_episode_steps, options):
    # Gymnasium's make takes max_episode_steps=None for "the registered limit"; rlforge's
    # registry takes the same option, with 0 for the default.
    if max_episode_steps is not None:
        options["max_episode_steps"] = max_episode_steps
    return options


def make(id, *, render_mode=None, max_episode_steps=None, wrappers=None, randomize=None, **options):
    """An env by id, as gymnasium.make: wrapped in its time limit, options as keyword arguments.

    rlforge.make("LunarLander-v3", continuous=True, gravity=-9.0). Unknown ids and options,
    and values out of range, raise rlforge.EnvError (a ValueError) naming what exists.

    wrappers and randomize are a config's env.wrappers and env.randomize (docs/python.md):
    wrappers=["ClipAction", ("FrameStack", {"num_stack": 4})],
    randomize={"gravity": "uniform:-12:-4"} draws the gravity afresh for every episode.
    """
    return Env(id, _options(max_episode_steps, options), render_mode, wrappers, randomize)


def make_vec(id, num_envs=1, *, threads=1, render_mode=None, max_episode_steps=None, wrappers=None,
             randomize=None, curriculum=None, **options):
    """num_envs envs stepped together on `threads` threads (the GIL is released while they step).

    Gymnasium 1.x's vector API with same-step autoreset: on the step an episode ends, obs[i]
    is already the next episode's first observation and info["final_obs"][i] the last one.
    wrappers and randomize apply to every env, as in make().
    curriculum={"wind_power": 20.0} is a config's env.curriculum.from: those randomised options
    start at these values, and envs.set_randomize_reach(r) widens their ranges around them (r in
    [0, 1]; the whole ranges at 1, the default). Your training loop sets r, e.g. from its steps.
    """
    return VectorEnv(id, num_envs, threads, _options(max_episode_steps, options), render_mode, wrappers,
                     randomize, curriculum)


# --- Trained policies and training (need a build with LibTorch) -----------------------------

try:
    from . import _policy
except ImportError as _error:  # a build without LibTorch has the envs alone
    _policy = None
    _policy_error = _error


def _require_policy_module(what):
    if _policy is None:
        raise RuntimeError(f"rlforge.{what} needs rlforge built with LibTorch (-DRLFORGE_WITH_TORCH=ON): {_policy_error}")


def _program():
    import os
    import shutil

    program = os.environ.get("RLFORGE_PROGRAM") or (_policy.program if _policy is not None else "")
    if program and os.path.exists(program):
        return program
    found = shutil.which("rlforge")
    if found is None:
        raise RuntimeError("the rlforge program was not found: set RLFORGE_PROGRAM or put rlforge on PATH")
    return found


def _run(arguments, echo):
    """Runs the rlforge program; its stdout is echoed line by line and returned."""
    import subprocess

    process = subprocess.Popen([_program(), *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if echo:
            print(line, end="", flush=True)
    stderr = process.stderr.read()
    if process.wait() != 0:
        # rlforge's errors are one line: "rlforge: error: ..."
        message = stderr.strip().splitlines()[-1] if stderr.strip() else f"rlforge {arguments[0]} failed"
        raise RuntimeError(message.removeprefix("rlforge: error: "))
    return lines


def load_policy(path):
    """An exported policy as a callable: policy(observation) -> action, policy(batch) -> actions.

    `path` is a file written by `rlforge export` (TorchScript), or a run directory: its
    policy.pt, exported first from the run's best checkpoint when it is not there yet.
    Observations are NumPy arrays as the env gives them; discrete actions come back as int
    (one observation) or int64 arrays, Box actions as float32 arrays clipped to the bounds.
    """
    import os

    _require_policy_module("load_policy")
    path = os.fspath(path)
    if os.path.isdir(path):
        exported = os.path.join(path, "policy.pt")
        if not os.path.exists(exported):
            _run(["export", path, "--out", exported], echo=False)
        path = exported
    return _policy.Policy(path)


def train(config, overrides=(), *, seed=None, run_dir=None, echo=True):
    """Trains from a YAML config as `rlforge train` does and returns the run directory.

    `overrides` are "key=value" strings (as --set takes them), e.g. ["trainer.total_steps=20000"].
    The trainer's progress goes to stdout (echo=False keeps it quiet); a bad config raises
    RuntimeError with rlforge's one-line message.
    """
    import os
    import pathlib

    _require_policy_module("train")
    arguments = ["train", os.fspath(config)]
    for override in overrides:
        arguments += ["--set", override]
    if seed is not None:
        arguments += ["--set", f"run.seed={int(seed)}"]
    if run_dir is not None:
        arguments += ["--run-dir", os.fspath(run_dir)]
    for line in reversed(_run(arguments, echo)):
        if line.startswith("run directory: "):
            return pathlib.Path(line.removeprefix("run directory: ").strip())
    raise RuntimeError("rlforge train finished without naming its run directory")


__all__ += ["load_policy", "train"]
