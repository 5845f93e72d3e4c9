package demo

import (
	"math"
	"math/rand/v2"
)

// rng is the generator's random source: PCG, fully determined by its seeds.
type rng struct{ *rand.Rand }

// newRNG returns a stream for one purpose (stream) of one seed; distinct
// streams are independent, so files can be generated in any order.
func newRNG(seed int64, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(uint64(seed), stream*0x9e3779b97f4a7c15+1))}
}

// logNormal draws from a log-normal distribution with the given median and
// shape (sigma of the underlying normal): the usual model of message sizes.
func (r rng) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.NormFloat64())
}

// pareto draws from a Pareto distribution with minimum xm and tail index
// alpha, capped at limit: heavy-tailed request counts and bulk transfers.
func (r rng) pareto(xm, alpha, limit float64) float64 {
	v := xm / math.Pow(1-r.Float64(), 1/alpha)
	return math.Min(v, limit)
}

// pick returns a uniformly chosen index below n.
func (r rng) pick(n int) int { return r.IntN(n) }

// chance reports true with probability p.
func (r rng) chance(p float64) bool { return r.Float64() < p }

// k8sAlphabet is the character set Kubernetes uses for generated name
// suffixes and pod-template-hash values (no vowels, no confusable digits).
const k8sAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// suffix returns n characters from the Kubernetes name alphabet.
func (r rng) suffix(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = k8sAlphabet[r.IntN(len(k8sAlphabet))]
	}
	return string(b)
}

// hex returns n lowercase hexadecimal characters.
func (r rng) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

// uuid returns a random (version 4) UUID string.
func (r rng) uuid() string {
	h := []byte(r.hex(32))
	h[12] = '4'
	h[16] = "89ab"[r.IntN(4)]
	s := string(h)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}
