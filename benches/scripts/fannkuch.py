# fannkuch: the Benchmarks Game fannkuch-redux, n = 10 — small-array permutation work.
# Mike Pall's sequential algorithm, as in fannkuch.lua: the lists are used at
# indices 1..n (index 0 is unused) so the code matches the 1-based Lua version.


def fannkuch(n):
    p = list(range(n + 1))
    q = list(range(n + 1))
    s = list(range(n + 1))
    sign = 1
    maxflips = 0
    total = 0
    while True:
        # Copy and flip.
        q1 = p[1]
        if q1 != 1:
            for i in range(2, n + 1):
                q[i] = p[i]
            flips = 1
            while True:
                qq = q[q1]
                if qq == 1:
                    total += sign * flips
                    if flips > maxflips:
                        maxflips = flips
                    break
                q[q1] = q1
                if q1 >= 4:
                    i, j = 2, q1 - 1
                    while True:
                        q[i], q[j] = q[j], q[i]
                        i += 1
                        j -= 1
                        if i >= j:
                            break
                q1 = qq
                flips += 1
        # Permute.
        if sign == 1:
            p[2], p[1] = p[1], p[2]
            sign = -1
        else:
            p[2], p[3] = p[3], p[2]
            sign = 1
            for i in range(3, n + 1):
                sx = s[i]
                if sx != 1:
                    s[i] = sx - 1
                    break
                if i == n:
                    return total, maxflips
                s[i] = i
                t = p[1]
                for j in range(1, i + 1):
                    p[j] = p[j + 1]
                p[i + 1] = t


def main():
    n = 10
    total, flips = fannkuch(n)
    print("%d\nPfannkuchen(%d) = %d" % (total, n, flips))


main()
