#!/usr/bin/env python3
"""Reference values for tests/stats/test_privacy_accountant.cpp, computed independently of
rlforge's series: the Renyi divergence of the sampled Gaussian mechanism by direct numerical
integration at 50 digits (mpmath, Debian's python3-mpmath), then composed over steps and
converted to (epsilon, delta) with Balle et al. 2020, Theorem 21.

  A_alpha = integral of N(z; 0, s^2) * (1 - q + q * exp((2z - 1) / (2 s^2)))^alpha dz
  RDP(alpha) = log(A_alpha) / (alpha - 1)      (per step)

Run: python3 tests/stats/privacy_reference.py
"""
import mpmath as mp

mp.mp.dps = 50


def rdp_one_step(q, sigma, alpha):
    q, sigma, alpha = mp.mpf(q), mp.mpf(sigma), mp.mpf(alpha)
    density = lambda z: mp.exp(-z * z / (2 * sigma ** 2)) / (sigma * mp.sqrt(2 * mp.pi))
    ratio = lambda z: 1 - q + q * mp.exp((2 * z - 1) / (2 * sigma ** 2))
    integrand = lambda z: density(z) * ratio(z) ** alpha
    # Split where the mass sits: around 0 and around the tilted mean.
    points = [-mp.inf, -20 * sigma, 0, 1, alpha * 1 + 20 * sigma, mp.inf]
    a = mp.quad(integrand, points)
    return mp.log(a) / (alpha - 1)


def orders():
    return [1 + x / mp.mpf(10) for x in range(1, 100)] + [mp.mpf(a) for a in range(12, 64)]


def epsilon(q, sigma, steps, delta):
    best = None
    for a in orders():
        rdp = steps * rdp_one_step(q, sigma, a)
        eps = rdp - (mp.log(delta) + mp.log(a)) / (a - 1) + mp.log((a - 1) / a)
        if best is None or eps < best[0]:
            best = (eps, a)
    return best


if __name__ == "__main__":
    print("# one-step RDP: q, sigma, alpha, rdp")
    for q, sigma in [(0.01, 1.1), (0.1, 2.0), (0.5, 0.8), (256 / 60000, 1.12)]:
        for alpha in [1.5, 2, 3.7, 8, 16.5, 32]:
            print(q, sigma, alpha, mp.nstr(rdp_one_step(q, sigma, alpha), 12))
    print("# epsilon: q, sigma, steps, delta, epsilon, order")
    for q, sigma, steps, delta in [(0.01, 1.1, 1000, 1e-5), (256 / 60000, 1.12, 14063, 1e-5),
                                   (128 / 3500, 1.0, 1094, 1e-5), (0.05, 0.7, 200, 1e-6)]:
        eps, a = epsilon(q, sigma, steps, delta)
        print(q, sigma, steps, delta, mp.nstr(eps, 12), mp.nstr(a, 4))
