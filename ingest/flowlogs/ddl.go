package flowlogs

import "strings"

// ColumnsDDL returns the column list of the flow_logs table, one
// "name Type" per line separated by ",\n", in catalogue order, for the
// table's CREATE TABLE statement. Batch.Input yields the same columns in the
// same order.
func ColumnsDDL() string {
	var b strings.Builder
	for i, f := range catalogue {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(f.Column)
		b.WriteByte(' ')
		b.WriteString(f.Type)
	}
	return b.String()
}
