package flowlogs

import (
	"net/netip"
	"slices"
)

// prefixMap finds the most specific prefix holding an address: one hash
// lookup per distinct prefix length, longest first, so a table of
// thousands of AWS ranges costs a dozen lookups at most.
type prefixMap[T any] struct {
	v4, v6 lengths[T]
}

type lengths[T any] struct {
	bits []int // descending
	m    map[netip.Prefix]T
}

// add keeps the first value given for a prefix.
func (p *prefixMap[T]) add(pfx netip.Prefix, v T) {
	pfx = pfx.Masked()
	l := &p.v6
	if pfx.Addr().Is4() {
		l = &p.v4
	}
	if l.m == nil {
		l.m = map[netip.Prefix]T{}
	}
	if _, dup := l.m[pfx]; dup {
		return
	}
	l.m[pfx] = v
	if !slices.Contains(l.bits, pfx.Bits()) {
		l.bits = append(l.bits, pfx.Bits())
		slices.Sort(l.bits)
		slices.Reverse(l.bits)
	}
}

func (p *prefixMap[T]) lookup(a netip.Addr) (T, bool) {
	l := &p.v6
	if a.Is4() {
		l = &p.v4
	}
	for _, b := range l.bits {
		pfx, _ := a.Prefix(b)
		if v, ok := l.m[pfx]; ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func (p *prefixMap[T]) empty() bool { return len(p.v4.m)+len(p.v6.m) == 0 }
