package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDocsExample keeps the example of docs/deployer.md a valid spec.
func TestDocsExample(t *testing.T) {
	data, err := os.ReadFile("../../docs/deployer.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(data), "## Project spec\n")
	require.True(t, ok, "docs/deployer.md has a Project spec section")
	_, block, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```\n")
	require.True(t, ok)
	p, err := Parse("docs/deployer.md", []byte(block))
	require.NoError(t, err)
	require.NoError(t, p.Validate(testRules()))
	require.True(t, p.Traffic.TopologyAwareRouting)
}
