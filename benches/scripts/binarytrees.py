# binarytrees: the Benchmarks Game binary-trees, depth 16 — allocation and GC.
# Nodes are (left, right) tuples; a leaf is (None, None).


def bottom_up(depth):
    if depth <= 0:
        return (None, None)
    depth -= 1
    return (bottom_up(depth), bottom_up(depth))


def check(t):
    left, right = t
    if left is None:
        return 1
    return 1 + check(left) + check(right)


def main():
    n = 16
    min_depth = 4
    max_depth = n
    if min_depth + 2 > n:
        max_depth = min_depth + 2
    stretch_depth = max_depth + 1
    print("stretch tree of depth %d\t check: %d" % (stretch_depth, check(bottom_up(stretch_depth))))

    long_lived = bottom_up(max_depth)

    for depth in range(min_depth, max_depth + 1, 2):
        iterations = 1 << (max_depth - depth + min_depth)
        chk = 0
        for _ in range(iterations):
            chk += check(bottom_up(depth))
        print("%d\t trees of depth %d\t check: %d" % (iterations, depth, chk))
    print("long lived tree of depth %d\t check: %d" % (max_depth, check(long_lived)))


main()
