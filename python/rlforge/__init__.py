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


def make(id, *, render_mode=None, max_episode_steps=None, **options):
    """An env by id, as gymnasium.make: wrapped in its time limit, options as keyword arguments.

    rlforge.make("LunarLander-v3", continuous=True, gravity=-9.0). Unknown ids and options,
    and values out of range, raise rlforge.EnvError (a ValueError) naming what exists.
    """
    return Env(id, _options(max_episode_steps, options), render_mode)


def make_vec(id, num_envs=1, *, threads=1, render_mode=None, max_episode_steps=None, **options):
    """num_envs envs stepped together on `threads` threads (the GIL is released while they step).

    Gymnasium 1.x's vector API with same-step autoreset: on the step an episode ends, obs[i]
    is already the next episode's first observation and info["final_obs"][i] the last one.
    """
    return VectorEnv(id, num_envs, threads, _options(max_episode_steps, options), render_mode)
