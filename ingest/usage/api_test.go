package usage

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/stretchr/testify/require"

	"github.com/furrowdev/furrow/api"
)

// TestThroughFurrowAPI: the route as furrow serve mounts it, under the
// ingest scope of the API server: Prometheus' client with an ingest token
// is stored; with a read-only token it is refused (403, not retried).
func TestThroughFurrowAPI(t *testing.T) {
	s := migratedStore(t)
	const readTok, ingestTok = "read-token-0123456789abcdef", "ingest-token-0123456789abcdef"
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("prometheus ingest "+ingestTok+"\n"), 0o600))
	cfg := api.DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.Tokens = []api.Secret{readTok}
	cfg.TokensFile = tokens
	reg := prometheus.NewRegistry()
	srv, err := api.New(cfg, api.Dependencies{Store: s, Registry: reg})
	require.NoError(t, err)
	c, err := New(DefaultConfiguration(), Dependencies{Store: s, Registry: reg, Now: func() time.Time { return now }})
	require.NoError(t, err)
	c.Routes(srv.Group(api.ScopeIngest))
	require.NoError(t, srv.Start(context.Background()))
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })

	u, err := url.Parse("http://" + srv.Addr() + "/api/v1" + Path)
	require.NoError(t, err)
	client := func(token string) remote.WriteClient {
		hc := config_util.DefaultHTTPClientConfig
		hc.Authorization = &config_util.Authorization{Type: "Bearer", Credentials: config_util.Secret(token)}
		wc, err := remote.NewWriteClient("furrow", &remote.ClientConfig{
			URL: &config_util.URL{URL: u}, Timeout: model.Duration(30 * time.Second),
			HTTPClientConfig: hc, WriteProtoMsg: config.RemoteWriteProtoMsgV1,
		})
		require.NoError(t, err)
		return wc
	}
	body := encodeV1(t, []ts{cpu("api", "shop", "web-1", "app", pt{at(10, 0, 0, 0), 1}, pt{at(10, 0, 30, 0), 4})})

	_, err = client(readTok).Store(context.Background(), body, 0)
	require.ErrorContains(t, err, "403")
	var rec remote.RecoverableError
	require.NotErrorAs(t, err, &rec, "a refused token is not retried")
	require.Equal(t, "", usageRows(t, s, "api"))

	_, err = client(ingestTok).Store(context.Background(), body, 0)
	require.NoError(t, err)
	require.Equal(t, "shop\tweb-1\t2026-11-02 10:00:00\t3\t0\n", usageRows(t, s, "api"))
}
