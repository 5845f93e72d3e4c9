package flowlogs

// Keep compacts the batch to the rows i for which keep(i) is true, in
// order, and returns how many remain. The ingest uses it to drop records
// outside the requested time window.
func (b *Batch) Keep(keep func(i int) bool) int {
	b.init()
	n := 0
	for i := range b.rows {
		if !keep(i) {
			continue
		}
		if n != i {
			for c := range b.cols {
				if b.cols[c].present {
					b.cols[c].move(n, i)
				}
			}
		}
		n++
	}
	if n != b.rows {
		for c := range b.cols {
			b.cols[c].truncate(n)
		}
		b.rows = n
	}
	return n
}

// move copies row from to row to.
func (c *column) move(to, from int) {
	switch c.kind {
	case kindU8:
		c.u8[to] = c.u8[from]
	case kindU16:
		c.u16[to] = c.u16[from]
	case kindU64:
		c.u64[to] = c.u64[from]
	case kindTime:
		c.dt.Data[to] = c.dt.Data[from]
	case kindIP:
		c.ip[to] = c.ip[from]
	default:
		c.lc.Refs[to] = c.lc.Refs[from]
	}
}
