package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/furrowdev/furrow/demo"
)

func newDemoCommand(_ *app) *cobra.Command {
	cmd := &cobra.Command{Use: "demo", Short: "Demo data sets"}
	var (
		seed         int64
		days         int
		flowsPerHour int
		start        string
	)
	gen := &cobra.Command{
		Use:   "generate DIR",
		Short: "Write a realistic data set: flow logs in the S3 key layout, pod/node snapshots, a furrow.yaml with the network",
		Long: `Writes one cluster in eu-west-1 (3 AZs, ~60 nodes, ~20 namespaces with an Istio
ingress gateway, monitoring and a dozen services, ~1,500 pods a day with churn
and IP reuse): VPC flow logs (v5 custom format with a header) under
DIR/s3/AWSLogs/…, kubectl snapshots under DIR/k8s/, the network for traffic
classification in DIR/furrow.yaml and the generator's ground truth in
DIR/ground-truth.json. On the second day the checkout namespace switches on
locality load balancing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			opts := demo.Options{Seed: seed, Days: days, FlowsPerHour: flowsPerHour}
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return fmt.Errorf("--start: %w", err)
				}
				opts.Start = t
			}
			t0 := time.Now()
			sum, err := demo.Generate(ctx, args[0], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo: %d flow records in %d objects, %d snapshots, %d nodes, %d pods, %d reused IPs (%s)\n",
				sum.Records, sum.Files, sum.Snapshots, sum.Nodes, sum.Pods, sum.ReusedIPs, time.Since(t0).Round(time.Millisecond))
			return nil
		},
	}
	gen.Flags().Int64Var(&seed, "seed", 0, "random seed (the same seed writes the same bytes)")
	gen.Flags().IntVar(&days, "days", 0, "days of data (default 2)")
	gen.Flags().IntVar(&flowsPerHour, "flows-per-hour", 0, "flow records per hour (default ~20k)")
	gen.Flags().StringVar(&start, "start", "", "first day (YYYY-MM-DD, default 2026-11-01)")
	cmd.AddCommand(gen, newDemoSlackCommand())
	return cmd
}

// newDemoSlackCommand serves demo.SlackStandIn until interrupted.
func newDemoSlackCommand() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "slack",
		Short: "A local stand-in for Slack's Web API (not Slack): prints each alert message posted or updated",
		Long: `Answers chat.postMessage, chat.update and auth.test as Slack's Web API does
and prints each message as one line: point alerting.slack.api_url at
http://LISTEN/api/ (any token) to see what alert delivery sends. Nothing
leaves the machine; make run starts it for the demo.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext()
			defer cancel()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: demo.NewSlackStandIn(cmd.OutOrStdout()), ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "slack stand-in: listening on http://%s/api/ (a local stand-in, not Slack: nothing leaves this machine)\n", ln.Addr())
			go func() {
				<-ctx.Done()
				sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer scancel()
				_ = srv.Shutdown(sctx)
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8090", "address to listen on (keep it on loopback)")
	return cmd
}
