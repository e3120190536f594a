"""Tests of the rlforge Python module's environments (ctest: python_envs).

Run by hand from a build folder:
    PYTHONPATH=build-python/python SDL_VIDEODRIVER=dummy python3 -m pytest python/tests/test_envs.py
The C++ trajectory tool and the test plugin are found through RLFORGE_TRAJECTORY_TOOL and
RLFORGE_TEST_PLUGIN (ctest sets both), else beside the imported package in the build tree.
"""

import os
import pathlib
import subprocess
import threading
import warnings

import numpy as np
import pytest

import rlforge

# Gymnasium's registered episode limits, observation shapes and dtypes, and action spaces.
BUILTIN = {
    "CartPole-v1": (500, (4,), np.float32, "Discrete", 2),
    "MountainCar-v0": (200, (2,), np.float32, "Discrete", 3),
    "MountainCarContinuous-v0": (999, (2,), np.float32, "Box", (1,)),
    "Pendulum-v1": (200, (3,), np.float32, "Box", (1,)),
    "Acrobot-v1": (500, (6,), np.float32, "Discrete", 3),
    "LunarLander-v3": (1000, (8,), np.float32, "Discrete", 4),
    "LunarLanderContinuous-v3": (1000, (8,), np.float32, "Box", (2,)),
    "BipedalWalker-v3": (1600, (24,), np.float32, "Box", (4,)),
    "BipedalWalkerHardcore-v3": (2000, (24,), np.float32, "Box", (4,)),
    "CarRacing-v3": (1000, (96, 96, 3), np.uint8, "Box", (3,)),
}


def build_dir():
    # <build>/python/rlforge/__init__.py
    return pathlib.Path(rlforge.__file__).resolve().parents[2]


def found(variable, fallback):
    path = os.environ.get(variable) or str(fallback)
    if not os.path.exists(path):
        pytest.fail(f"{path} does not exist: build it (cmake --build BUILD --target rlforge_python_tests) "
                    f"or set {variable}")
    return path


def trajectory_tool():
    return found("RLFORGE_TRAJECTORY_TOOL", build_dir() / "python" / "rlforge_python_trajectory")


def plugin_path():
    return found("RLFORGE_TEST_PLUGIN", build_dir() / "tests" / "librlforge_test_plugin_good.so")


def fixed_action(space, t):
    """The action sequence of python/tests/dump_trajectory.cpp."""
    if isinstance(space, rlforge.Discrete):
        return ((t * t + 3 * t + 1) % 97) % int(space.n)
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    j = np.arange(low.size)
    frac = ((31 * t + 17 * j) % 101) / 100.0
    return (low + (high - low) * frac).astype(np.float32)


def run_python(env, seed, steps):
    """(kind, reward, terminated, truncated, obs) rows, resetting without a seed at episode ends."""
    rows = []
    obs, info = env.reset(seed=seed)
    assert info == {}
    rows.append(("reset", None, None, None, np.array(obs)))
    for t in range(steps):
        obs, reward, terminated, truncated, info = env.step(fixed_action(env.action_space, t))
        rows.append(("step", reward, terminated, truncated, np.array(obs)))
        if terminated or truncated:
            obs, _ = env.reset()
            rows.append(("reset", None, None, None, np.array(obs)))
    return rows


def observation(fields, space):
    # %.9g text round-trips float32 exactly; uint8 pixels are printed as integers.
    return np.array(fields, dtype=np.float64).astype(space.dtype).reshape(space.shape)


def run_cpp(env_id, seed, steps, options, obs_space):
    args = [trajectory_tool(), env_id, str(seed), str(steps)] + [f"{k}={v}" for k, v in options.items()]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        fields = line.split()
        if fields[0] == "reset":
            rows.append(("reset", None, None, None, observation(fields[1:], obs_space)))
        else:
            rows.append(("step", float(fields[1]), fields[2] == "1", fields[3] == "1",
                         observation(fields[4:], obs_space)))
    return rows


# ---- registry and API shapes ----

def test_registered_envs_lists_every_builtin():
    ids = rlforge.registered_envs()
    assert ids == sorted(ids)
    for env_id in BUILTIN:
        assert env_id in ids


@pytest.mark.parametrize("env_id", sorted(BUILTIN))
def test_api_shapes_and_dtypes(env_id):
    limit, obs_shape, obs_dtype, action_kind, action_shape = BUILTIN[env_id]
    env = rlforge.make(env_id)
    assert env.spec.id == env_id
    assert env.spec.max_episode_steps == limit
    obs_space, act_space = env.observation_space, env.action_space
    assert isinstance(obs_space, rlforge.Box)
    assert obs_space.shape == obs_shape and obs_space.dtype == np.dtype(obs_dtype)
    assert obs_space.low.shape == obs_shape and obs_space.low.dtype == np.dtype(obs_dtype)
    assert obs_space.high.shape == obs_shape and obs_space.high.dtype == np.dtype(obs_dtype)
    if action_kind == "Discrete":
        assert isinstance(act_space, rlforge.Discrete)
        assert act_space.n == action_shape and act_space.shape == () and act_space.dtype == np.int64
    else:
        assert isinstance(act_space, rlforge.Box)
        assert act_space.shape == action_shape and act_space.dtype == np.float32

    obs, info = env.reset(seed=3)
    assert isinstance(obs, np.ndarray) and obs.shape == obs_shape and obs.dtype == obs_dtype
    assert info == {} and isinstance(info, dict)
    assert obs_space.contains(obs)
    act_space.seed(3)
    for _ in range(3):
        action = act_space.sample()
        assert act_space.contains(action)
        result = env.step(action)
        assert len(result) == 5
        obs, reward, terminated, truncated, info = result
        assert obs.shape == obs_shape and obs.dtype == obs_dtype
        assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
        assert info == {} and isinstance(info, dict)
        if terminated or truncated:
            env.reset()
    env.close()


def test_options_reach_the_env():
    env = rlforge.make("LunarLander-v3", continuous=True, gravity=-9.0)
    assert isinstance(env.action_space, rlforge.Box) and env.action_space.shape == (2,)
    assert env.spec.kwargs == {"continuous": True, "gravity": -9.0}
    # Lower gravity: the lander falls more slowly over the same (engine-off) steps.
    def fall(**options):
        e = rlforge.make("LunarLander-v3", continuous=True, **options)
        e.reset(seed=0)
        for _ in range(20):
            obs, *_ = e.step(np.array([-1.0, 0.0], dtype=np.float32))
        return obs[3]  # vertical velocity
    assert fall(gravity=-9.0) > fall(gravity=-11.0)
    # An int for a float option is converted, as the registry converts "9" from text.
    assert rlforge.make("CartPole-v1", gravity=9).spec.kwargs["gravity"] == 9
    assert "gravity" in rlforge.env_options("CartPole-v1")
    assert rlforge.env_options("CartPole-v1")["masspole"][0] == pytest.approx(0.1)


def test_time_limit_truncates_as_gymnasium_make():
    env = rlforge.make("Pendulum-v1")  # never terminates
    env.reset(seed=0)
    for t in range(1, 201):
        _, _, terminated, truncated, _ = env.step(np.array([0.0], dtype=np.float32))
        assert not terminated
        assert truncated == (t == 200)
    short = rlforge.make("Pendulum-v1", max_episode_steps=7)
    assert short.spec.max_episode_steps == 7
    short.reset(seed=0)
    flags = [short.step(np.array([0.0], dtype=np.float32))[3] for _ in range(7)]
    assert flags == [False] * 6 + [True]


# ---- wrappers and domain randomisation, as a config's env.wrappers and env.randomize ----

def test_wrappers_stack_what_the_plain_env_gives():
    plain = rlforge.make("CartPole-v1")
    stacked = rlforge.make("CartPole-v1", wrappers=[("FrameStack", {"num_stack": 4})])
    assert stacked.observation_space.shape == (4, 4)
    # The same wrappers given as a config writes them, and by name with their defaults.
    for spelling in ([{"name": "FrameStack", "options": {"num_stack": 4}}], ["FrameStack"]):
        assert rlforge.make("CartPole-v1", wrappers=spelling).observation_space.shape == (4, 4)
    a, _ = plain.reset(seed=5)
    b, _ = stacked.reset(seed=5)
    np.testing.assert_array_equal(b, np.stack([a] * 4))  # Gymnasium's FrameStack pads with the first
    frames = [a] * 4
    for t in range(30):
        a, _, term_a, _, _ = plain.step(t % 2)
        b, _, term_b, _, _ = stacked.step(t % 2)
        frames = frames[1:] + [a]
        np.testing.assert_array_equal(b, np.stack(frames))
        assert term_a == term_b
        if term_a:
            break


def test_randomize_draws_per_episode_reproducibly_and_observe_options_shows_the_draw():
    def make(threads):
        return rlforge.make_vec("LunarLander-v3", 4, threads=threads, enable_wind=True,
                                randomize={"gravity": "uniform:-11.99:-4"},
                                wrappers=[("ObserveOptions", {"ranges": "gravity:-12:-4"})])
    envs = make(1)
    assert envs.single_observation_space.shape == (9,)
    obs, _ = envs.reset(seed=1)
    gravity = obs[:, -1]  # the drawn gravity, mapped from [-12, -4] onto [-1, 1]
    assert np.all((gravity >= -1) & (gravity < 1))
    assert len(set(gravity.tolist())) == 4  # each env draws its own
    again, _ = envs.reset(seed=1)
    np.testing.assert_array_equal(again, obs)
    # The draws and the episodes are the same on any number of threads.
    other = make(2)
    other.reset(seed=1)
    for t in range(200):
        actions = np.array([(t + i) % 4 for i in range(4)])
        np.testing.assert_array_equal(envs.step(actions)[0], other.step(actions)[0])
    # A fixed option is what ObserveOptions shows when nothing is drawn: -10 maps to -0.5.
    fixed = rlforge.make("LunarLander-v3", gravity=-10.0, wrappers=[("ObserveOptions", {"ranges": "gravity:-12:-4"})])
    assert fixed.reset(seed=0)[0][-1] == -0.5


def test_bad_wrappers_and_randomize_name_the_item():
    cases = [
        (dict(wrappers=["Nope"]), "unknown wrapper 'Nope'; known wrappers: .*FrameStack"),
        (dict(wrappers=[3]), "wrappers\\[0\\] is 3; expected a name, a \\(name, \\{options\\}\\) pair"),
        (dict(wrappers="FrameStack"), "wrappers is 'FrameStack'; expected a list"),
        (dict(wrappers=[{"name": "FrameStack", "opts": {}}]), "wrappers\\[0\\]: unknown key 'opts'"),
        (dict(wrappers=[("FrameStack", {"foo": 1})]), "wrapper 'FrameStack' has no option 'foo'; valid options: num_stack"),
        (dict(randomize={"gravity": "normal:0:1"}), "unknown distribution 'normal'"),
        (dict(randomize={"foo": "uniform:0:1"}), "has no option 'foo'"),
        (dict(randomize={"gravity": -9}), "randomize\\['gravity'\\] is -9; expected a str"),
        (dict(randomize=["gravity"]), "randomize is \\['gravity'\\]; expected a dict"),
        (dict(randomize={"gravity": "uniform:-11:-5"}, gravity=-9.0), "'gravity' is both set and randomised"),
    ]
    for kwargs, message in cases:
        with pytest.raises(rlforge.EnvError, match=message):
            rlforge.make("LunarLander-v3", **kwargs)
        with pytest.raises(rlforge.EnvError, match=message):
            rlforge.make_vec("LunarLander-v3", 2, **kwargs)


def test_curriculum_starts_at_its_values_and_the_reach_widens_the_range():
    def observed_wind(envs, seed):
        obs, _ = envs.reset(seed=seed)
        return (obs[:, -1] + 1) * 10  # ObserveOptions maps wind power [0, 20] onto [-1, 1]

    def make(**kwargs):
        return rlforge.make_vec("LunarLander-v3", 4, enable_wind=True, randomize={"wind_power": "uniform:0:20"},
                                wrappers=[("ObserveOptions", {"ranges": "wind_power:0:20"})], **kwargs)
    plain, curriculum = make(), make(curriculum={"wind_power": 20.0})
    # Until a reach is set, the whole range: the same draws as without a curriculum.
    whole = np.concatenate([observed_wind(plain, s) for s in range(20)])
    np.testing.assert_array_equal(np.concatenate([observed_wind(curriculum, s) for s in range(20)]), whole)
    curriculum.set_randomize_reach(0.0)
    np.testing.assert_allclose(observed_wind(curriculum, 3), 20.0, atol=1e-4)
    curriculum.set_randomize_reach(0.25)
    quarter = np.concatenate([observed_wind(curriculum, s) for s in range(20)])
    np.testing.assert_allclose(quarter, 20.0 + 0.25 * (whole - 20.0), atol=1e-4)  # each draw moved towards 20
    assert quarter.min() < 15.5 and quarter.max() <= 20.0 + 1e-4
    for reach in (-0.1, 1.5, float("nan")):
        with pytest.raises(rlforge.EnvError, match="the reach must be in \\[0, 1\\]"):
            curriculum.set_randomize_reach(reach)
    for kwargs, message in [
        (dict(curriculum={"wind_power": 25.0}), "curriculum option 'wind_power' \\(from 25\\) is outside its range"),
        (dict(curriculum={"gravity": -8.0}), "curriculum option 'gravity' \\(from -8\\) is not randomised"),
        (dict(curriculum={"wind_power": "20"}), "curriculum\\['wind_power'\\] is '20'; expected a number"),
        (dict(curriculum=[20.0]), "curriculum is \\[20.0\\]; expected a dict"),
    ]:
        with pytest.raises(rlforge.EnvError, match=message):
            make(**kwargs)
    with pytest.raises(rlforge.EnvError, match="curriculum needs randomize"):
        rlforge.make_vec("LunarLander-v3", 2, curriculum={"wind_power": 20.0})


# ---- determinism and parity with the C++ env ----

@pytest.mark.parametrize("env_id", ["CartPole-v1", "Acrobot-v1", "Pendulum-v1", "LunarLander-v3", "BipedalWalker-v3"])
def test_same_seed_same_trajectory_other_seed_differs(env_id):
    def rollout(seed):
        return run_python(rlforge.make(env_id), seed, 60)
    a, b, c = rollout(11), rollout(11), rollout(12)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x[:4] == y[:4]
        np.testing.assert_array_equal(x[4], y[4])
    assert not np.array_equal(a[0][4], c[0][4])


PARITY_CASES = [
    ("CartPole-v1", 600, {}),          # many episodes: unseeded resets continue the generator
    ("MountainCar-v0", 250, {}),       # one truncation at 200
    ("MountainCarContinuous-v0", 120, {}),
    ("Pendulum-v1", 210, {}),
    ("Acrobot-v1", 120, {}),
    ("LunarLander-v3", 300, {}),
    ("LunarLanderContinuous-v3", 150, {}),
    ("LunarLander-v3", 150, {"continuous": "true", "gravity": "-9.0", "enable_wind": "true"}),
    ("BipedalWalker-v3", 80, {}),
    ("BipedalWalkerHardcore-v3", 40, {}),
    ("CarRacing-v3", 4, {}),
    ("CartPole-v1", 40, {"max_episode_steps": "9", "masspole": "0.2"}),
]


@pytest.mark.parametrize("env_id,steps,options", PARITY_CASES)
def test_same_trajectory_as_the_cpp_env(env_id, steps, options):
    # Options go to the C++ tool as text and to make() as Python values.
    def python_value(text):
        if text in ("true", "false"):
            return text == "true"
        try:
            return int(text)
        except ValueError:
            return float(text)
    env = rlforge.make(env_id, **{k: python_value(v) for k, v in options.items()})
    ours = run_python(env, 2024, steps)
    theirs = run_cpp(env_id, 2024, steps, options, env.observation_space)
    assert len(ours) == len(theirs)
    assert sum(1 for row in ours if row[0] == "reset") == sum(1 for row in theirs if row[0] == "reset")
    for i, (x, y) in enumerate(zip(ours, theirs)):
        assert x[0] == y[0], f"row {i}"
        assert x[1:4] == y[1:4], f"row {i}: reward/terminated/truncated {x[1:4]} != {y[1:4]}"
        np.testing.assert_array_equal(x[4], y[4], err_msg=f"row {i}")


# ---- vector env ----

def single_env_rollout(env_id, seed, actions, options):
    """What Gymnasium's SAME_STEP vector env must report for one env: per step the observation
    after autoreset, reward, flags and (when the episode ended) the final observation."""
    env = rlforge.make(env_id, **options)
    obs, _ = env.reset(seed=seed)
    out = [(obs, None, None, None, None)]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        final = None
        if terminated or truncated:
            final = obs
            obs, _ = env.reset()
        out.append((obs, reward, terminated, truncated, final))
    return out


@pytest.mark.parametrize("env_id,options,threads", [
    ("CartPole-v1", {}, 1),
    ("CartPole-v1", {}, 2),
    ("Pendulum-v1", {"max_episode_steps": 6}, 2),   # truncations
    ("LunarLander-v3", {}, 3),
])
def test_make_vec_same_step_autoreset_matches_single_envs(env_id, options, threads):
    num_envs, steps, seed = 3, 80, 7
    envs = rlforge.make_vec(env_id, num_envs, threads=threads, **options)
    assert envs.num_envs == num_envs
    assert envs.metadata["autoreset_mode"] == rlforge.AutoresetMode.SAME_STEP
    single = envs.single_action_space
    actions = [[fixed_action(single, t + 13 * i) for i in range(num_envs)] for t in range(steps)]
    expected = [single_env_rollout(env_id, seed + i, [a[i] for a in actions], options) for i in range(num_envs)]

    obs, info = envs.reset(seed=seed)
    assert info == {}
    assert obs.shape == (num_envs,) + envs.single_observation_space.shape
    for i in range(num_envs):
        np.testing.assert_array_equal(obs[i], expected[i][0][0])
    ended_somewhere = 0
    for t in range(steps):
        obs, rewards, terminations, truncations, info = envs.step(np.array(actions[t]))
        assert rewards.dtype == np.float64 and terminations.dtype == np.bool_ and truncations.dtype == np.bool_
        ended = [i for i in range(num_envs) if expected[i][t + 1][4] is not None]
        if not ended:
            assert info == {}
        else:
            ended_somewhere += 1
            assert set(info) == {"final_obs", "_final_obs", "final_info", "_final_info"}
            assert info["final_obs"].dtype == object and info["final_obs"].shape == (num_envs,)
            assert list(info["_final_obs"]) == [i in ended for i in range(num_envs)]
            assert list(info["_final_info"]) == [i in ended for i in range(num_envs)]
            assert info["final_info"] == {}
        for i in range(num_envs):
            e_obs, e_reward, e_term, e_trunc, e_final = expected[i][t + 1]
            np.testing.assert_array_equal(obs[i], e_obs, err_msg=f"step {t} env {i}")
            # The C++ vector env keeps rewards as float32.
            assert rewards[i] == np.float32(e_reward)
            assert (terminations[i], truncations[i]) == (e_term, e_trunc)
            if e_final is None:
                assert not info or info["final_obs"][i] is None
            else:
                np.testing.assert_array_equal(info["final_obs"][i], e_final, err_msg=f"step {t} env {i}")
    assert ended_somewhere > 0, "the case must end episodes to test autoreset"


def test_make_vec_spaces_are_batched():
    envs = rlforge.make_vec("CartPole-v1", 4)
    single = rlforge.make("CartPole-v1")
    assert envs.single_observation_space == single.observation_space
    assert envs.single_action_space == single.action_space
    assert isinstance(envs.action_space, rlforge.MultiDiscrete)
    assert list(envs.action_space.nvec) == [2, 2, 2, 2]
    assert envs.observation_space.shape == (4, 4)
    np.testing.assert_array_equal(envs.observation_space.low[2], single.observation_space.low)
    boxes = rlforge.make_vec("BipedalWalker-v3", 3)
    assert isinstance(boxes.action_space, rlforge.Box) and boxes.action_space.shape == (3, 4)
    boxes.action_space.seed(0)
    sample = boxes.action_space.sample()
    assert sample.shape == (3, 4) and boxes.action_space.contains(sample)


def test_make_vec_seeds():
    envs = rlforge.make_vec("CartPole-v1", 3)
    by_int, _ = envs.reset(seed=40)
    by_list, _ = envs.reset(seed=[40, 41, 42])
    np.testing.assert_array_equal(by_int, by_list)
    np.testing.assert_array_equal(by_int[1], rlforge.make("CartPole-v1").reset(seed=41)[0])
    # An unseeded reset after a seeded one is reproducible.
    envs.reset(seed=5)
    a, _ = envs.reset()
    envs.reset(seed=5)
    b, _ = envs.reset()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(rlforge.EnvError, match="2 seeds for 3 envs"):
        envs.reset(seed=[1, 2])


def test_make_vec_threads_give_identical_results():
    outs = []
    for threads in (1, 2):
        envs = rlforge.make_vec("LunarLanderContinuous-v3", 4, threads=threads)
        envs.reset(seed=1)
        envs.action_space.seed(1)
        rows = [envs.step(envs.action_space.sample())[:4] for _ in range(50)]
        outs.append(rows)
    for x, y in zip(*outs):
        for a, b in zip(x, y):
            np.testing.assert_array_equal(a, b)


def test_make_vec_steps_from_threads_concurrently():
    # The GIL is released while a vector env steps; separate vector envs on separate Python
    # threads must each still give their own exact results.
    def run(results, key):
        envs = rlforge.make_vec("CartPole-v1", 2)
        envs.reset(seed=3)
        results[key] = [envs.step(np.array([t % 2, (t // 2) % 2]))[0] for t in range(300)]
    results = {}
    threads = [threading.Thread(target=run, args=(results, k)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in (1, 2):
        for a, b in zip(results[0], results[k]):
            np.testing.assert_array_equal(a, b)


# ---- errors ----

def test_unknown_id():
    with pytest.raises(rlforge.EnvError, match="unknown environment id 'Nope-v0'.*CartPole-v1"):
        rlforge.make("Nope-v0")
    with pytest.raises(ValueError, match="unknown environment id"):
        rlforge.make_vec("Nope-v0", 2)


def test_bad_options():
    with pytest.raises(rlforge.EnvError, match="no option 'foo'.*masspole"):
        rlforge.make("CartPole-v1", foo=1)
    with pytest.raises(rlforge.EnvError, match="masspole must be > 0, got -1"):
        rlforge.make("CartPole-v1", masspole=-1.0)
    with pytest.raises(rlforge.EnvError, match="gravity"):
        rlforge.make("CartPole-v1", gravity="heavy")
    with pytest.raises(rlforge.EnvError, match="option 'gravity' = \\[1\\] is of type list"):
        rlforge.make("CartPole-v1", gravity=[1])
    with pytest.raises(rlforge.EnvError, match="render_mode 'human' is not offered"):
        rlforge.make("CartPole-v1", render_mode="human")
    with pytest.raises(rlforge.EnvError, match="num_envs must be in"):
        rlforge.make_vec("CartPole-v1", 0)


def test_bad_actions():
    env = rlforge.make("CartPole-v1")
    with pytest.raises(rlforge.EnvError, match="before reset"):
        env.step(0)
    env.reset(seed=0)
    with pytest.raises(rlforge.EnvError, match="CartPole-v1: action 2 is outside the action space Discrete\\(2\\)"):
        env.step(2)
    with pytest.raises(rlforge.EnvError, match="action -1 is outside"):
        env.step(np.int64(-1))
    with pytest.raises(rlforge.EnvError, match="action 0.5 is not an integer"):
        env.step(0.5)
    with pytest.raises(rlforge.EnvError, match="is not an integer"):
        env.step(np.array([1]))  # Gymnasium's Discrete takes a scalar, not a 1-element array
    env.step(np.array(1))  # a 0-d integer array is a scalar
    env.step(np.int32(0))
    with pytest.raises(rlforge.EnvError, match="seed must be an integer in \\[0, 2\\*\\*64\\)"):
        env.reset(seed=-1)
    with pytest.raises(rlforge.EnvError, match="reset options .* are not supported"):
        env.reset(options={"low": -0.1})

    pendulum = rlforge.make("Pendulum-v1")
    pendulum.reset(seed=0)
    with pytest.raises(rlforge.EnvError, match="non-finite element"):
        pendulum.step(np.array([np.nan]))
    with pytest.raises(rlforge.EnvError, match="does not fit the action space"):
        pendulum.step(np.zeros(3))
    with pytest.raises(rlforge.EnvError, match="not an array of numbers"):
        pendulum.step("left")
    pendulum.step([0.5])  # anything NumPy converts to float32

    # After the episode ended, stepping is refused until reset.
    short = rlforge.make("CartPole-v1", max_episode_steps=1)
    short.reset(seed=0)
    assert short.step(0)[3]
    with pytest.raises(rlforge.EnvError, match="after the episode ended"):
        short.step(0)


def test_bad_vector_actions_change_nothing():
    envs = rlforge.make_vec("CartPole-v1", 3)
    with pytest.raises(rlforge.EnvError, match="before reset"):
        envs.step(np.zeros(3, dtype=np.int64))
    envs.reset(seed=0)
    with pytest.raises(rlforge.EnvError, match="action 5 is outside the action space Discrete\\(2\\) \\(env 1 of 3\\)"):
        envs.step(np.array([0, 5, 0]))
    with pytest.raises(rlforge.EnvError, match="are not integers"):
        envs.step(np.array([0.0, 1.0, 0.0]))
    with pytest.raises(rlforge.EnvError, match="have shape \\(2,\\)"):
        envs.step(np.array([0, 1]))
    after_errors = envs.step(np.array([1, 1, 1]))[0]
    fresh = rlforge.make_vec("CartPole-v1", 3)
    fresh.reset(seed=0)
    np.testing.assert_array_equal(after_errors, fresh.step(np.array([1, 1, 1]))[0])
    boxes = rlforge.make_vec("Pendulum-v1", 2)
    boxes.reset(seed=0)
    with pytest.raises(rlforge.EnvError, match="non-finite.*\\(env 1 of 2\\)"):
        boxes.step(np.array([[0.0], [np.inf]]))


# ---- plugins ----

def test_plugin_env():
    ids = rlforge.load_plugin(plugin_path())
    assert ids == ["test/PluginWalk-v0"]
    assert "test/PluginWalk-v0" in rlforge.registered_envs()
    assert rlforge.load_plugin(plugin_path()) == ids  # loading again changes nothing
    env = rlforge.make("test/PluginWalk-v0")
    assert env.spec.max_episode_steps == 40
    obs, _ = env.reset(seed=1)
    assert -0.5 <= obs[0] <= 0.5
    obs2, reward, terminated, truncated, _ = env.step(1)
    assert obs2[0] == pytest.approx(obs[0] + 0.1, abs=1e-6)
    assert reward == pytest.approx(-abs(float(obs2[0])), abs=1e-6)
    broken = rlforge.make("test/PluginWalk-v0", throw_in="step")
    broken.reset(seed=0)
    with pytest.raises(rlforge.EnvError, match="step broke"):
        broken.step(0)
    envs = rlforge.make_vec("test/PluginWalk-v0", 2, threads=2)
    envs.reset(seed=0)
    assert envs.step(np.array([1, 0]))[0].shape == (2, 1)
    with pytest.raises(rlforge.EnvError, match="cannot load plugin"):
        rlforge.load_plugin("/nonexistent/libnothing.so")


# ---- rendering ----

@pytest.mark.parametrize("env_id,shape", [("CartPole-v1", (400, 600, 3)), ("Pendulum-v1", (500, 500, 3)),
                                          ("LunarLander-v3", (400, 600, 3))])
def test_render_rgb_array(env_id, shape):
    env = rlforge.make(env_id, render_mode="rgb_array")
    assert env.render_mode == "rgb_array"
    with pytest.raises(rlforge.EnvError, match="before reset"):
        env.render()
    env.reset(seed=0)
    first = env.render()
    assert first.shape == shape and first.dtype == np.uint8
    assert len(np.unique(first.reshape(-1, 3), axis=0)) > 1  # something is drawn
    env.action_space.seed(0)
    for _ in range(10):
        env.step(env.action_space.sample())
    assert not np.array_equal(first, env.render())
    env.close()


def test_render_without_mode_warns_like_gymnasium():
    env = rlforge.make("CartPole-v1")
    env.reset(seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert env.render() is None
    assert "without specifying any render mode" in str(caught[0].message)


def test_vector_render():
    envs = rlforge.make_vec("CartPole-v1", 2, render_mode="rgb_array")
    envs.reset(seed=0)
    frames = envs.render()
    assert isinstance(frames, tuple) and len(frames) == 2 and frames[0].shape == (400, 600, 3)


# ---- spaces ----

def test_space_samples_are_gymnasiums_draws():
    # Gymnasium's spaces draw from np.random.default_rng(seed): Discrete integers(n), a bounded
    # Box uniform(low, high) cast to its dtype, MultiDiscrete floor(random() * nvec).
    discrete = rlforge.make("LunarLander-v3").action_space
    assert discrete.seed(9) == [9]
    draws = [discrete.sample() for _ in range(20)]
    assert all(type(d) is np.int64 for d in draws)
    rng = np.random.default_rng(9)
    assert draws == [rng.integers(4) for _ in range(20)]

    box = rlforge.make("BipedalWalker-v3").action_space
    box.seed(4)
    rng = np.random.default_rng(4)
    for _ in range(5):
        expected = rng.uniform(low=box.low.astype(np.float64), high=box.high.astype(np.float64), size=(4,))
        np.testing.assert_array_equal(box.sample(), expected.astype(np.float32))

    multi = rlforge.make_vec("CartPole-v1", 5).action_space
    multi.seed(2)
    rng = np.random.default_rng(2)
    for _ in range(5):
        np.testing.assert_array_equal(multi.sample(), (rng.random((5,)) * 2).astype(np.int64))


def test_space_contains_follows_gymnasium():
    discrete = rlforge.make("CartPole-v1").action_space
    assert discrete.contains(1) and discrete.contains(np.int64(0)) and discrete.contains(np.array(1))
    assert not discrete.contains(2) and not discrete.contains(-1) and not discrete.contains(0.0)
    assert not discrete.contains(np.array([1]))
    box = rlforge.make("Pendulum-v1").action_space
    assert box.contains(np.array([1.5], dtype=np.float32))
    assert box.contains([1.5])                                 # converted to the Box's dtype
    assert not box.contains(np.array([1.5]))                   # float64 is not safely float32
    assert not box.contains(np.array([2.5], dtype=np.float32))
    assert not box.contains(np.array([np.nan], dtype=np.float32))
    assert not box.contains(np.zeros((1, 1), dtype=np.float32))
    assert box.is_bounded() and not rlforge.make("CartPole-v1").observation_space.is_bounded()
    multi = rlforge.make_vec("CartPole-v1", 3).action_space
    assert multi.contains(np.array([0, 1, 1])) and multi.contains([1, 0, 0])
    assert not multi.contains(np.array([0, 2, 1])) and not multi.contains(np.array([0, 1]))
    assert repr(discrete) == "Discrete(2)" and repr(multi) == "MultiDiscrete([2 2 2])"
    assert box == rlforge.make("Pendulum-v1").action_space and box != discrete
    with pytest.raises(ValueError):
        box.low[0] = 0  # the bounds are the space's, read-only
