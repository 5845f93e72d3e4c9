package embedded

import "github.com/furrowdev/furrow/store"

// Test hooks for the insert-path benchmark (the paths that lost stay
// measurable without being part of the API).

// StageNativeForTest writes b as a Native file in the staging directory.
func (s *Store) StageNativeForTest(b store.Block) (string, error) { return s.stageNative(b) }

// InsertFileForTest loads a staged file into table.
func (s *Store) InsertFileForTest(table string, b store.Block, path, format string) error {
	names := make([]string, len(b.Columns))
	for i, c := range b.Columns {
		names[i] = c.Name
	}
	return s.insertFile(table, names, path, format, "", nil)
}
