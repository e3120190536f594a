#!/usr/bin/env python3
"""Steps per second of the rlforge Python module from a plain Python loop.

    PYTHONPATH=build-python/python python3 python/bench/bench_python.py [--quick]

Prints one line per measurement: name, steps/s (env steps), and the ratio to the Gymnasium
figure of ../shared/reference/peers.md where there is one. Run it several times and take
medians (docs/benchmarks.md, "Python module: steps per second").

  cartpole_sample   the loop Gymnasium's figure is for: env.step(env.action_space.sample()),
                    reset on terminated or truncated
  cartpole_fixed    the same with actions drawn beforehand (the step path alone)
  call_overhead     a pybind11 call that does nothing: the floor of any bound call
  space_sample      env.action_space.sample() alone
  lunar_single      LunarLander-v3, one env, the cartpole_sample loop
  lunar_vec16_tN    make_vec("LunarLander-v3", 16, threads=N), envs.step(envs.action_space.sample());
                    env steps/s (16 per vector step); Gymnasium's SyncVectorEnv of 16 is taken as
                    its single-env LunarLander figure (Gymnasium is not installed here)
"""

import argparse
import time

import rlforge
from rlforge import _envs

# Gymnasium 1.4.0, env.step in a Python loop with random actions (../shared/reference/peers.md).
GYMNASIUM = {"CartPole-v1": 86_343, "LunarLander-v3": 25_808}


def timed(loop, steps):
    start = time.perf_counter()
    loop(steps)
    return steps / (time.perf_counter() - start)


def sampled_actions(env_id):
    """The loop Gymnasium's figures are for: env.step(env.action_space.sample()), reset when done."""
    def bench(steps):
        env = rlforge.make(env_id)
        env.reset(seed=0)
        env.action_space.seed(0)

        def loop(n):
            for _ in range(n):
                obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
                if terminated or truncated:
                    env.reset()
        return timed(loop, steps)
    return bench


cartpole_sample = sampled_actions("CartPole-v1")


def cartpole_fixed(steps):
    env = rlforge.make("CartPole-v1")
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [int(env.action_space.sample()) for _ in range(steps)]

    def loop(n):
        for a in actions:
            obs, reward, terminated, truncated, info = env.step(a)
            if terminated or truncated:
                env.reset()
    return timed(loop, steps)


def call_overhead(steps):
    noop = _envs._noop

    def loop(n):
        for _ in range(n):
            noop(1)
    return timed(loop, steps)


def space_sample(steps):
    space = rlforge.make("CartPole-v1").action_space
    space.seed(0)

    def loop(n):
        for _ in range(n):
            space.sample()
    return timed(loop, steps)


lunar_single = sampled_actions("LunarLander-v3")


def lunar_vec16(threads):
    def bench(steps):
        envs = rlforge.make_vec("LunarLander-v3", 16, threads=threads)
        envs.reset(seed=0)
        envs.action_space.seed(0)
        vector_steps = max(1, steps // 16)

        def loop(n):
            for _ in range(n):
                obs, rewards, terminations, truncations, info = envs.step(envs.action_space.sample())
        return timed(loop, vector_steps) * 16
    return bench


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    benches = [
        ("cartpole_sample", cartpole_sample, 1_000_000, "CartPole-v1"),
        ("cartpole_fixed", cartpole_fixed, 1_000_000, "CartPole-v1"),
        ("call_overhead", call_overhead, 2_000_000, None),
        ("space_sample", space_sample, 1_000_000, None),
        ("lunar_single", lunar_single, 200_000, "LunarLander-v3"),
        ("lunar_vec16_t1", lunar_vec16(1), 400_000, "LunarLander-v3"),
        ("lunar_vec16_t2", lunar_vec16(2), 400_000, "LunarLander-v3"),
    ]
    for name, bench, steps, peer in benches:
        rate = bench(int(steps * scale))
        ratio = f"  {rate / GYMNASIUM[peer]:.1f}x Gymnasium ({GYMNASIUM[peer]:,})" if peer else ""
        print(f"{name:16s} {rate:12,.0f} steps/s{ratio}", flush=True)


if __name__ == "__main__":
    main()
