# strings_maps: 4 rounds of: build a large text from a fixed word list with a
# Park-Miller LCG, split it into words, count them in one dict; then build a
# report with "".join and hash it. All integer arithmetic stays below 2^53 (no
# wrapping), so every language computes the same numbers.
ROUNDS = 4
N = 1000000
words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
         "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau",
         "upsilon", "phi", "chi", "psi", "omega"]

seed = 42


def nextr():
    global seed
    seed = seed * 16807 % 2147483647
    return seed


def main():
    nwords = len(words)
    counts = {}
    order = []
    total = 0
    textlen = 0
    for _ in range(ROUNDS):
        # Build the text.
        parts = []
        for i in range(N):
            a = nextr() % nwords
            c = nextr() % 500
            parts.append(words[a] + str(c))
        text = " ".join(parts)
        textlen += len(text)

        # Split and count, remembering first-seen order.
        for w in text.split(" "):
            total += 1
            if w not in counts:
                order.append(w)
                counts[w] = 0
            counts[w] += 1

    # Build the report.
    out = []
    for w in order:
        out.append(w)
        out.append("=")
        out.append(str(counts[w]))
        out.append("\n")
    report = "".join(out)

    # Hash it.
    h = 0
    for c in report.encode():
        h = (h * 31 + c) % 1000000007

    print("distinct %d total %d text %d report %d hash %d"
          % (len(order), total, textlen, len(report), h))


main()
