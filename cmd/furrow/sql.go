package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/api"
	"github.com/furrowdev/furrow/query/sqlapi"
	"github.com/furrowdev/furrow/store"
)

func newSQLCommand(a *app) *cobra.Command {
	var (
		format    string
		params    []string
		serverURL string
	)
	cmd := &cobra.Command{
		Use:   "sql [QUERY]",
		Short: "Run a read-only SQL query (for analysts); the query comes from the argument or standard input",
		Long: `Runs one read-only statement (SELECT, SHOW, DESCRIBE, EXISTS) with the same
limits as POST /api/v1/sql. Parameters bind ClickHouse placeholders:
  furrow sql --param ns=checkout "SELECT count() FROM flow_logs WHERE src_namespace = {ns:String}"
While "furrow serve" holds the data directory, the query goes through its
API (found through the data directory's lock file, or --server).

` + tokenHelp,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			q, err := queryText(args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			p, err := parseParams(params)
			if err != nil {
				return err
			}
			f, err := sqlapi.ParseFormat(format)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			return a.throughServerOrStore(ctx, cmd, "furrow sql", serverURL, false,
				func(base string) error { return a.remoteSQL(cmd, base, q, string(f), p, out) },
				func(s store.Store) error { return sqlapi.New(s, a.cfg.HTTP.SQL).Run(ctx, out, q, f, p) })
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "TSV", "output format: TSV, CSV, JSONEachRow, Pretty or Parquet")
	cmd.Flags().StringArrayVarP(&params, "param", "p", nil, "query parameter name=value, bound to {name:Type} (repeatable)")
	cmd.Flags().StringVar(&a.tokenFile, "token-file", "", "file whose first line is the bearer token for the server (default: env FURROW_TOKEN, then the configuration's tokens)")
	cmd.Flags().StringVar(&serverURL, "server", "", "send the query to this furrow server (http://host:port) instead of opening the data directory")
	return cmd
}

func queryText(args []string, stdin io.Reader) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return args[0], nil
	}
	b, err := io.ReadAll(stdin)
	if err != nil {
		return "", err
	}
	q := strings.TrimSpace(string(b))
	if q == "" {
		return "", fmt.Errorf("no query: pass it as an argument or on standard input")
	}
	return q, nil
}

func (a *app) remoteSQL(cmd *cobra.Command, base, q, format string, params map[string]string, out io.Writer) error {
	body, _ := json.Marshal(map[string]any{"query": q, "format": format, "params": params})
	c, err := a.newAPIClient(base, api.ScopeRead)
	if err != nil {
		return err
	}
	resp, err := c.do(cmd.Context(), http.MethodPost, "/api/v1/sql", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(out, resp.Body); err != nil {
		return err
	}
	return nil
}
