package datasource

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/migrations"
)

// TestPluginJSON: plugin.json names this plugin, its backend executable
// (scripts/build-plugin.sh builds gpx_furrow_<os>_<arch>) and logos that
// exist; the schema the plugin needs is one furrow has.
func TestPluginJSON(t *testing.T) {
	b, err := os.ReadFile("plugin.json")
	require.NoError(t, err)
	var p struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Backend    bool   `json:"backend"`
		Executable string `json:"executable"`
		Info       struct {
			Logos map[string]string `json:"logos"`
		} `json:"info"`
	}
	require.NoError(t, json.Unmarshal(b, &p))
	require.Equal(t, "datasource", p.Type)
	require.Equal(t, PluginID, p.ID)
	require.True(t, p.Backend)
	require.Equal(t, "gpx_furrow", p.Executable)
	for _, logo := range p.Info.Logos {
		_, err := os.Stat(filepath.Join("frontend", logo))
		require.NoError(t, err, logo)
	}
	require.LessOrEqual(t, RequiredSchema, migrations.Latest())
}
