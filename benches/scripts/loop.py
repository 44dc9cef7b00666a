# loop: a tight integer loop — sum of (i*i)%7 for i below 30,000,000.
def main():
    s = 0
    for i in range(30000000):
        s += (i * i) % 7
    print(s)


main()
