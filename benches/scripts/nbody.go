// nbody: the Benchmarks Game n-body, 2,000,000 steps — float arithmetic and field access.
package main

import (
	"fmt"
	"math"
)

const STEPS = 2000000
const PI = 3.141592653589793
const SOLAR_MASS = 4 * PI * PI
const DAYS_PER_YEAR = 365.24

type Body struct{ x, y, z, vx, vy, vz, mass float64 }

func body(x, y, z, vx, vy, vz, mass float64) *Body {
	return &Body{x, y, z, vx * DAYS_PER_YEAR, vy * DAYS_PER_YEAR, vz * DAYS_PER_YEAR, mass * SOLAR_MASS}
}

func advance(bodies []*Body, nbody int, dt float64) {
	for i := 0; i < nbody; i++ {
		bi := bodies[i]
		bix, biy, biz, bimass := bi.x, bi.y, bi.z, bi.mass
		bivx, bivy, bivz := bi.vx, bi.vy, bi.vz
		for j := i + 1; j < nbody; j++ {
			bj := bodies[j]
			dx, dy, dz := bix-bj.x, biy-bj.y, biz-bj.z
			d2 := dx*dx + dy*dy + dz*dz
			mag := dt / (d2 * math.Sqrt(d2))
			bm := bj.mass * mag
			bivx -= dx * bm
			bivy -= dy * bm
			bivz -= dz * bm
			bm = bimass * mag
			bj.vx += dx * bm
			bj.vy += dy * bm
			bj.vz += dz * bm
		}
		bi.vx = bivx
		bi.vy = bivy
		bi.vz = bivz
		bi.x = bix + dt*bivx
		bi.y = biy + dt*bivy
		bi.z = biz + dt*bivz
	}
}

func energy(bodies []*Body, nbody int) float64 {
	e := 0.0
	for i := 0; i < nbody; i++ {
		bi := bodies[i]
		vx, vy, vz, bim := bi.vx, bi.vy, bi.vz, bi.mass
		e += 0.5 * bim * (vx*vx + vy*vy + vz*vz)
		for j := i + 1; j < nbody; j++ {
			bj := bodies[j]
			dx, dy, dz := bi.x-bj.x, bi.y-bj.y, bi.z-bj.z
			e -= bim * bj.mass / math.Sqrt(dx*dx+dy*dy+dz*dz)
		}
	}
	return e
}

func offsetMomentum(b []*Body, nbody int) {
	px, py, pz := 0.0, 0.0, 0.0
	for i := 0; i < nbody; i++ {
		bi := b[i]
		bim := bi.mass
		px += bi.vx * bim
		py += bi.vy * bim
		pz += bi.vz * bim
	}
	b[0].vx = -px / SOLAR_MASS
	b[0].vy = -py / SOLAR_MASS
	b[0].vz = -pz / SOLAR_MASS
}

func main() {
	bodies := []*Body{
		body(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0), // sun
		body(4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
			1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05,
			9.54791938424326609e-04), // jupiter
		body(8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
			-2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05,
			2.85885980666130812e-04), // saturn
		body(1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
			2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05,
			4.36624404335156298e-05), // uranus
		body(1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
			2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05,
			5.15138902046611451e-05), // neptune
	}
	nbody := len(bodies)
	offsetMomentum(bodies, nbody)
	fmt.Printf("%.9f\n", energy(bodies, nbody))
	for s := 0; s < STEPS; s++ {
		advance(bodies, nbody, 0.01)
	}
	fmt.Printf("%.9f\n", energy(bodies, nbody))
}
