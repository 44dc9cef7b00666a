// fannkuch: the Benchmarks Game fannkuch-redux, n = 10 — small-array permutation work.
// Mike Pall's sequential algorithm, as in fannkuch.lua: the slices are used at
// indices 1..n (index 0 is unused) so the code matches the 1-based Lua version.
package main

import "fmt"

func fannkuch(n int) (int, int) {
	p := make([]int, n+1)
	q := make([]int, n+1)
	s := make([]int, n+1)
	for i := 0; i <= n; i++ {
		p[i] = i
		q[i] = i
		s[i] = i
	}
	sign := 1
	maxflips := 0
	sum := 0
	for {
		// Copy and flip.
		q1 := p[1]
		if q1 != 1 {
			for i := 2; i <= n; i++ {
				q[i] = p[i]
			}
			flips := 1
			for {
				qq := q[q1]
				if qq == 1 {
					sum += sign * flips
					if flips > maxflips {
						maxflips = flips
					}
					break
				}
				q[q1] = q1
				if q1 >= 4 {
					i, j := 2, q1-1
					for {
						q[i], q[j] = q[j], q[i]
						i++
						j--
						if i >= j {
							break
						}
					}
				}
				q1 = qq
				flips++
			}
		}
		// Permute.
		if sign == 1 {
			p[2], p[1] = p[1], p[2]
			sign = -1
		} else {
			p[2], p[3] = p[3], p[2]
			sign = 1
			for i := 3; i <= n; i++ {
				sx := s[i]
				if sx != 1 {
					s[i] = sx - 1
					break
				}
				if i == n {
					return sum, maxflips
				}
				s[i] = i
				t := p[1]
				for j := 1; j <= i; j++ {
					p[j] = p[j+1]
				}
				p[i+1] = t
			}
		}
	}
}

func main() {
	n := 10
	sum, flips := fannkuch(n)
	fmt.Printf("%d\nPfannkuchen(%d) = %d\n", sum, n, flips)
}
