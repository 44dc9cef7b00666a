// spectralnorm: the Benchmarks Game spectral-norm, n = 1000 — float loops and slice indexing.
package main

import (
	"fmt"
	"math"
)

const N = 1000

func A(i, j int) float64 {
	ij := i + j
	return 1.0 / float64(ij*(ij+1)/2+i+1)
}

func Av(x, y []float64, n int) {
	for i := 0; i < n; i++ {
		a := 0.0
		for j := 0; j < n; j++ {
			a += A(i, j) * x[j]
		}
		y[i] = a
	}
}

func Atv(x, y []float64, n int) {
	for i := 0; i < n; i++ {
		a := 0.0
		for j := 0; j < n; j++ {
			a += A(j, i) * x[j]
		}
		y[i] = a
	}
}

func AtAv(x, y, t []float64, n int) {
	Av(x, t, n)
	Atv(t, y, n)
}

func main() {
	n := N
	u := make([]float64, n)
	v := make([]float64, n)
	t := make([]float64, n)
	for i := 0; i < n; i++ {
		u[i] = 1.0
	}
	for k := 0; k < 10; k++ {
		AtAv(u, v, t, n)
		AtAv(v, u, t, n)
	}
	vBv := 0.0
	vv := 0.0
	for i := 0; i < n; i++ {
		ui, vi := u[i], v[i]
		vBv += ui * vi
		vv += vi * vi
	}
	fmt.Printf("%.9f\n", math.Sqrt(vBv/vv))
}
