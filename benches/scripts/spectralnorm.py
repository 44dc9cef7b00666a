# spectralnorm: the Benchmarks Game spectral-norm, n = 1000 — float loops and list indexing.
# Plain loops (no generators or map tricks), the same algorithm as the other versions.
from math import sqrt

N = 1000


def A(i, j):
    ij = i + j
    return 1.0 / (ij * (ij + 1) // 2 + i + 1)


def Av(x, y, n):
    for i in range(n):
        a = 0.0
        for j in range(n):
            a += A(i, j) * x[j]
        y[i] = a


def Atv(x, y, n):
    for i in range(n):
        a = 0.0
        for j in range(n):
            a += A(j, i) * x[j]
        y[i] = a


def AtAv(x, y, t, n):
    Av(x, t, n)
    Atv(t, y, n)


def main():
    n = N
    u = [1.0] * n
    v = [0.0] * n
    t = [0.0] * n
    for _ in range(10):
        AtAv(u, v, t, n)
        AtAv(v, u, t, n)
    vBv = vv = 0.0
    for i in range(n):
        ui, vi = u[i], v[i]
        vBv += ui * vi
        vv += vi * vi
    print("%.9f" % sqrt(vBv / vv))


main()
