package datasource

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Settings are one furrow datasource's settings, as Grafana stores them:
// the URL of a furrow server (its HTTP API, embedded engine or not), a
// token with the read scope (secure), TLS options and the row cap.
type Settings struct {
	// URL is the furrow server, e.g. http://furrow.internal:8080.
	URL string `json:"url"`
	// TLSSkipVerify skips the server certificate check (test setups only).
	TLSSkipVerify bool `json:"tlsSkipVerify"`
	// TLSCACert is a PEM bundle to verify the server with (secure).
	TLSCACert string `json:"-"`
	// RowLimit caps the rows of a panel (a notice says so); 0 means
	// DefaultRowLimit. Panels of 100k rows freeze browsers.
	RowLimit int `json:"rowLimit"`
	// Token is a furrow token with the read scope (secure).
	Token string `json:"-"`
}

// DefaultRowLimit is the row cap of a panel unless the settings say.
const DefaultRowLimit = 10_000

// maxRowLimit bounds what the settings may ask.
const maxRowLimit = 1_000_000

// LoadSettings reads and checks the datasource's settings: the one place
// they are parsed.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var out Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &out); err != nil {
			return out, fmt.Errorf("read the datasource settings: %w", err)
		}
	}
	if out.URL == "" {
		out.URL = s.URL // Grafana's own URL field
	}
	out.Token = strings.TrimSpace(s.DecryptedSecureJSONData["token"])
	out.TLSCACert = s.DecryptedSecureJSONData["tlsCACert"]
	if out.RowLimit == 0 {
		out.RowLimit = DefaultRowLimit
	}
	return out, out.Validate()
}

// Validate says what to fix, in the words of the settings page.
func (s Settings) Validate() error {
	if s.URL == "" {
		return errors.New("URL: set the furrow server's address, e.g. http://furrow.internal:8080")
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q: use http://host:port or https://host:port", s.URL)
	}
	if s.RowLimit < 0 || s.RowLimit > maxRowLimit {
		return fmt.Errorf("row limit %d: use 1 to %d", s.RowLimit, maxRowLimit)
	}
	return nil
}
