package catalog

import "testing"

// FuzzParseHR: any HR export in any format parses or fails with an error,
// and every record it returns has an employee id.
func FuzzParseHR(f *testing.F) {
	f.Add("yaml", "people:\n  - {employee_id: e1, name: A, team: {code: T}}\n")
	f.Add("json", `{"people": [{"employee_id": "e1", "team": {"code": "T", "name": "Team"}}]}`)
	f.Add("csv", "employee_id,name,team.code\ne1,A,T\n")
	f.Add("csv", "employee_id\n\"unterminated\n")
	m := DefaultHRConfiguration().Mapping
	f.Fuzz(func(t *testing.T, format, data string) {
		recs, err := parseHR(format, []byte(data), m)
		if err != nil {
			return
		}
		for _, r := range recs {
			if r.person.EmployeeID == "" {
				t.Fatalf("a record without an employee id: %+v", r)
			}
		}
	})
}
