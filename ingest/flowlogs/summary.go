package flowlogs

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// ObjectResult is what happened to one object.
type ObjectResult struct {
	// URL is the object as listed (or the source that failed to list).
	URL string `json:"url"`
	// ID is its ledger identity (see source.ID).
	ID string `json:"id,omitempty"`
	// Format is how it was encoded: text, gzip or parquet.
	Format string `json:"format,omitempty"`
	// Read counts the records seen, Stored those inserted, Rejected the
	// malformed ones and OutsideWindow those dropped for their start time.
	Read          int64 `json:"read"`
	Stored        int64 `json:"stored"`
	Rejected      int64 `json:"rejected"`
	OutsideWindow int64 `json:"outside_window"`
	// AlreadyStored counts the records sent that an earlier, interrupted
	// run had stored already (the store dropped them as duplicates); they
	// are not in Stored.
	AlreadyStored int64 `json:"already_stored,omitempty"`
	// Errors are the first rejected lines as file:line: reason.
	Errors []string `json:"errors,omitempty"`
	// NotFlowLog marks a file that is not a flow log at all.
	NotFlowLog bool `json:"not_flow_log,omitempty"`
	// Error is why the object was not ingested; empty on success.
	Error string `json:"error,omitempty"`
	// Permanent: the failure cannot heal by retrying; the object is
	// recorded as failed and skipped until it or furrow changes.
	Permanent bool `json:"permanent,omitempty"`
	// Attempts is how many times the object was read in this run.
	Attempts int     `json:"attempts,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// Summary reports an ingest run.
type Summary struct {
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
	// Files are the objects ingested or attempted (not the skipped ones).
	Files []ObjectResult `json:"files"`
	// Listed counts the objects found, Skipped those already ingested.
	Listed  int `json:"listed"`
	Skipped int `json:"skipped"`
	// SkippedFailed counts the objects left out because they failed
	// permanently under this furrow version (IngestOptions.RetryFailed
	// takes them again).
	SkippedFailed int `json:"skipped_failed"`
	// Ingested, NotFlowLogs and FailedFiles partition Files.
	Ingested    int `json:"ingested"`
	NotFlowLogs int `json:"not_flow_logs"`
	FailedFiles int `json:"failed_files"`
	// Record counts summed over Files.
	Records       int64 `json:"records"`
	Stored        int64 `json:"stored"`
	Rejected      int64 `json:"rejected"`
	OutsideWindow int64 `json:"outside_window"`
	AlreadyStored int64 `json:"already_stored"`
	// Strict is whether rejected lines and non-flow-log files fail the run.
	Strict bool `json:"strict"`
	// Status is "ok" or "failed" (see Failed).
	Status  string  `json:"status"`
	Seconds float64 `json:"seconds"`
}

func (s *Summary) add(r ObjectResult) {
	s.Files = append(s.Files, r)
	switch {
	case r.Error != "":
		s.FailedFiles++
	case r.NotFlowLog:
		s.NotFlowLogs++
	default:
		s.Ingested++
	}
	s.Records += r.Read
	s.Stored += r.Stored
	s.Rejected += r.Rejected
	s.OutsideWindow += r.OutsideWindow
	s.AlreadyStored += r.AlreadyStored
}

func (s Summary) finish() Summary {
	s.Status = "ok"
	if s.Failed() {
		s.Status = "failed"
	}
	return s
}

// Failed reports whether the run should fail (a non-zero exit): an object
// could not be listed, read or stored (in this run, or permanently in an
// earlier one and skipped), or, when Strict, a line was rejected or a file
// was not a flow log.
func (s Summary) Failed() bool {
	if s.FailedFiles > 0 || s.SkippedFailed > 0 {
		return true
	}
	return s.Strict && (s.Rejected > 0 || s.NotFlowLogs > 0)
}

// PrintAllFiles is how many files Print lists one by one; past it, only the
// files with rejected lines or errors are listed.
const PrintAllFiles = 20

// Print writes the summary as a table, one line per file (only the files
// with problems when there are more than PrintAllFiles), then the totals
// and the first errors of each file.
func (s Summary) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "READ\tSTORED\tREJECTED\tOUTSIDE\tSTATUS\t FILE")
	quiet := 0
	for _, f := range s.Files {
		if len(s.Files) > PrintAllFiles && f.Error == "" && !f.NotFlowLog && f.Rejected == 0 {
			quiet++
			continue
		}
		status := "ok"
		switch {
		case f.Permanent:
			status = "failed (permanent)"
		case f.Error != "":
			status = "failed"
		case f.NotFlowLog:
			status = "not a flow log"
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t %s\n", f.Read, f.Stored, f.Rejected, f.OutsideWindow, status, f.URL)
	}
	if quiet > 0 {
		fmt.Fprintf(tw, "\t\t\t\t\t (%d more files without problems)\n", quiet)
	}
	failedBefore := ""
	if s.SkippedFailed > 0 {
		failedBefore = fmt.Sprintf(", %d skipped (failed permanently before; --retry-failed retries them)", s.SkippedFailed)
	}
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%s\t TOTAL: %d ingested, %d skipped (already ingested)%s, %d not flow logs, %d failed, %.1fs\n",
		s.Records, s.Stored, s.Rejected, s.OutsideWindow, s.Status, s.Ingested, s.Skipped, failedBefore, s.NotFlowLogs, s.FailedFiles, s.Seconds)
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.AlreadyStored > 0 {
		fmt.Fprintf(w, "%d records were already stored by an interrupted run and were not stored again (not in STORED)\n", s.AlreadyStored)
	}
	for _, f := range s.Files {
		if f.Error != "" {
			fmt.Fprintf(w, "error: %s\n", f.Error)
		}
		for _, e := range f.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
		if n := f.Rejected - int64(len(f.Errors)); n > 0 && len(f.Errors) > 0 {
			fmt.Fprintf(w, "  … and %d more rejected lines in %s\n", n, f.URL)
		}
	}
	return nil
}
