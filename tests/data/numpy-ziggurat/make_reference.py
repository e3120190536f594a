"""Writes ziggurat_draws.csv and box_sample.csv: NumPy's normal and exponential draws, and
Gymnasium's Box.sample emulated with NumPy alone, for tests/envs/test_numpy_ziggurat.cpp.

Run from this folder with Debian's Python and NumPy 1.24:
    /usr/bin/python3 make_reference.py
"""
import numpy as np

R_NORMAL = 3.6541528853610087963519472518  # NumPy's ziggurat_nor_r: the normal's tail begins here
R_EXPONENTIAL = 7.6971174701310497140446280481  # ziggurat_exp_r


def generator(seed):
    # What Gymnasium's seeding.np_random(seed) returns; also np.random.default_rng(seed).
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))


def mixed(rng, steps):
    """Normals and exponentials among the other draws, so that the count of raw draws matters."""
    out = []
    for k in range(steps):
        out.append(("n", rng.standard_normal()))
        out.append(("e", rng.standard_exponential()))
        if k % 3 == 0:
            out.append(("N", rng.normal(1.5, 2.0)))
        if k % 4 == 1:
            out.append(("E", rng.exponential(0.5)))
        if k % 5 == 2:
            out.append(("u", rng.random()))
        if k % 7 == 3:
            out.append(("i", int(rng.integers(0, 10))))  # a 32-bit draw: leaves half a word buffered
    return out


def only(kind, method):
    def program(rng, steps):
        return [(kind, method(rng)) for _ in range(steps)]
    return program


PROGRAMS = [
    ("mixed", mixed, 10000, [0, 1, 7, 12345, 2**32 + 5, 2**63 - 1], 97),
    ("normal", only("n", lambda g: g.standard_normal()), 200000, [2024], 997),
    ("exponential", only("e", lambda g: g.standard_exponential()), 200000, [2024], 997),
]


def bits(value):
    return int(np.array(float(value), dtype=np.float64).view(np.uint64))


def checksum(draws):
    # Sum of (2i + 1) * bits(draw i) mod 2^64: any single changed draw changes it (odd weights).
    total = 0
    for i, (_, v) in enumerate(draws):
        total = (total + (2 * i + 1) * bits(v)) % 2**64
    return total


def text(kind, v):
    return str(v) if kind == "i" else "%.17g" % v


def write_draws(path):
    with open(path, "w") as f:
        f.write("# NumPy %s, Generator(PCG64(SeedSequence(seed))); written by make_reference.py.\n" % np.__version__)
        f.write("# S,program,seed,steps,draws,checksum,normal_tails,exponential_tails,next_random\n")
        f.write("# V,program,seed,index,kind,value (every stride-th draw; kinds: n standard_normal,\n")
        f.write("#   e standard_exponential, N normal(1.5,2), E exponential(0.5), u random, i integers(0,10))\n")
        for name, program, steps, seeds, stride in PROGRAMS:
            for seed in seeds:
                rng = generator(seed)
                draws = program(rng, steps)
                normal_tails = sum(1 for k, v in draws if k == "n" and abs(v) > R_NORMAL)
                exponential_tails = sum(1 for k, v in draws if k == "e" and v > R_EXPONENTIAL)
                f.write("S,%s,%d,%d,%d,%d,%d,%d,%.17g\n" % (name, seed, steps, len(draws), checksum(draws),
                                                          normal_tails, exponential_tails, rng.random()))
                for i in range(0, len(draws), stride):
                    kind, v = draws[i]
                    f.write("V,%s,%d,%d,%s,%s\n" % (name, seed, i, kind, text(kind, v)))


def gymnasium_box_sample(np_random, low, high, dtype=np.float32):
    """gymnasium/spaces/box.py's Box.sample (Gymnasium 1.x) for a float Box, line for line."""
    low = np.asarray(low, dtype=dtype)  # Box stores its bounds in its dtype
    high_bound = np.asarray(high, dtype=dtype)
    bounded_below = -np.inf < low
    bounded_above = high_bound < np.inf

    high = high_bound  # a float dtype keeps high as it is
    sample = np.empty(low.shape)

    unbounded = ~bounded_below & ~bounded_above
    upp_bounded = ~bounded_below & bounded_above
    low_bounded = bounded_below & ~bounded_above
    bounded = bounded_below & bounded_above

    sample[unbounded] = np_random.normal(size=unbounded[unbounded].shape)
    sample[low_bounded] = np_random.exponential(size=low_bounded[low_bounded].shape) + low[low_bounded]
    sample[upp_bounded] = -np_random.exponential(size=upp_bounded[upp_bounded].shape) + high[upp_bounded]
    sample[bounded] = np_random.uniform(low=low[bounded], high=high[bounded], size=bounded[bounded].shape)
    return sample.astype(dtype)


INF = float("inf")
BOXES = [
    ("unbounded3", [-INF] * 3, [INF] * 3),
    # Every kind of element, interleaved, so that the order of the groups matters.
    ("mixed6", [-INF, 0.0, -INF, -1.0, 0.3, -INF], [INF, INF, 2.5, 1.0, INF, -0.7]),
]


def write_boxes(path, samples=50):
    with open(path, "w") as f:
        f.write("# Gymnasium 1.x Box.sample emulated with NumPy %s alone (Gymnasium is not installed):\n" % np.__version__)
        f.write("# make_reference.py's gymnasium_box_sample mirrors box.py's code path. float32 values.\n")
        f.write("# box,low;...,high;...  then  sample,box,seed,index,values... (%d samples from one\n" % samples)
        f.write("# generator per seed, in order)\n")
        for name, low, high in BOXES:
            f.write("box,%s,%s,%s\n" % (name, ";".join(repr(v) for v in low), ";".join(repr(v) for v in high)))
        for name, low, high in BOXES:
            for seed in range(5):
                rng = generator(seed)
                for i in range(samples):
                    values = gymnasium_box_sample(rng, low, high)
                    f.write("sample,%s,%d,%d,%s\n" % (name, seed, i, ",".join("%.9g" % v for v in values)))


if __name__ == "__main__":
    write_draws("ziggurat_draws.csv")
    write_boxes("box_sample.csv")
