package usage

import (
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// The remote-write protocol as the specifications name it
// (prometheus.io/docs/specs/prw/remote_write_spec and …_2_0).
const (
	contentTypeProtobuf = "application/x-protobuf"
	protoV1             = "prometheus.WriteRequest"
	protoV2             = "io.prometheus.write.v2.Request"
	encodingSnappy      = "snappy"

	headerVersion           = "X-Prometheus-Remote-Write-Version"
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
	headerVersionV1         = "0.1.0"
	headerVersionV2         = "2.0.0"
	labelName               = "__name__"
	labelNamespace          = "namespace"
	labelPod                = "pod"
	labelContainer          = "container"
	metricCPU               = "container_cpu_usage_seconds_total"
	metricMemory            = "container_memory_working_set_bytes"
	pauseContainer          = "POD"
	maxLabelsPerSeries      = 1 << 10
)

// Decoding errors, each answered with its own status (routes.go).
var (
	// errMediaType: not a protobuf body, or a protobuf message this
	// receiver does not know (415).
	errMediaType = errors.New("unsupported content type")
	// errEncoding: a Content-Encoding other than snappy (415).
	errEncoding = errors.New("unsupported content encoding")
	// errTooLarge: the body, compressed or not, is over the limits (413).
	errTooLarge = errors.New("request too large")
	// errNotSnappy: the body is not a snappy block (400).
	errNotSnappy = errors.New("body is not snappy-compressed")
	// errNotProtobuf: the body is not the protobuf message announced (400).
	errNotProtobuf = errors.New("body is not a remote-write protobuf message")
	// errInvalid: a well-formed message that breaks the protocol, such as
	// a v2 label reference out of the symbol table (400).
	errInvalid = errors.New("invalid remote-write request")
)

// protocol is the remote-write version of a request: 1 or 2.
type protocol int

// protocolOf reads the message type from the Content-Type header. An empty
// header is a 1.0 request, as senders older than the 1.0 specification
// send it.
func protocolOf(contentType string) (protocol, error) {
	if strings.TrimSpace(contentType) == "" {
		return 1, nil
	}
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || media != contentTypeProtobuf {
		return 0, fmt.Errorf("%w %q: send %s (remote-write 1.0 or 2.0)", errMediaType, contentType, contentTypeProtobuf)
	}
	switch params["proto"] {
	case "", protoV1:
		return 1, nil
	case protoV2:
		return 2, nil
	default:
		return 0, fmt.Errorf("%w: proto=%s; this receiver accepts %s and %s", errMediaType, params["proto"], protoV1, protoV2)
	}
}

// checkEncoding accepts snappy and, as Prometheus' own receiver does, no
// header at all.
func checkEncoding(enc string) error {
	if enc == "" || strings.EqualFold(strings.TrimSpace(enc), encodingSnappy) {
		return nil
	}
	return fmt.Errorf("%w %q: remote write bodies are snappy block-compressed", errEncoding, enc)
}

// series is one time series of a request, whichever the protocol: its
// labels (in the request's order) and float samples. Label strings point
// into the decoded message.
type series struct {
	labels     []prompb.Label
	samples    []prompb.Sample
	histograms int
}

// decompress returns the snappy block body uncompressed into buf (grown
// when too small), refusing bodies that would exceed maxDecoded.
func decompress(body, buf []byte, maxDecoded int64) ([]byte, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotSnappy, err)
	}
	if int64(n) > maxDecoded {
		return nil, fmt.Errorf("%w: the body uncompresses to %d bytes, over max_decoded_bytes (%d); send smaller batches (queue_config.max_samples_per_send)", errTooLarge, n, maxDecoded)
	}
	out, err := snappy.Decode(buf[:cap(buf)], body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotSnappy, err)
	}
	return out, nil
}

// decodeV1 unmarshals a prometheus.WriteRequest.
func decodeV1(b []byte, out []series) ([]series, error) {
	var req prompb.WriteRequest
	if err := req.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w (%s): %v", errNotProtobuf, protoV1, err)
	}
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		out = append(out, series{labels: ts.Labels, samples: ts.Samples, histograms: len(ts.Histograms)})
	}
	return out, nil
}

// decodeV2 unmarshals an io.prometheus.write.v2.Request and resolves its
// label references; a reference outside the symbol table, or an odd
// number of them, is an invalid request.
func decodeV2(b []byte, out []series) ([]series, error) {
	var req writev2.Request
	if err := req.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("%w (%s): %v", errNotProtobuf, protoV2, err)
	}
	syms := req.Symbols
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		refs := ts.LabelsRefs
		if len(refs)%2 != 0 {
			return nil, fmt.Errorf("%w: series %d has %d label references, not name-value pairs", errInvalid, i, len(refs))
		}
		if len(refs) > 2*maxLabelsPerSeries {
			return nil, fmt.Errorf("%w: series %d has %d labels", errInvalid, i, len(refs)/2)
		}
		labels := make([]prompb.Label, len(refs)/2)
		for j := range labels {
			n, v := refs[2*j], refs[2*j+1]
			if int(n) >= len(syms) || int(v) >= len(syms) {
				return nil, fmt.Errorf("%w: series %d refers to symbol %d of %d", errInvalid, i, max(n, v), len(syms))
			}
			labels[j] = prompb.Label{Name: syms[n], Value: syms[v]}
		}
		samples := make([]prompb.Sample, len(ts.Samples))
		for j, s := range ts.Samples {
			samples[j] = prompb.Sample{Value: s.Value, Timestamp: s.Timestamp}
		}
		out = append(out, series{labels: labels, samples: samples, histograms: len(ts.Histograms)})
	}
	return out, nil
}

// decode turns an uncompressed body of protocol p into series.
func decode(p protocol, b []byte) ([]series, error) {
	if p == 2 {
		return decodeV2(b, nil)
	}
	return decodeV1(b, nil)
}
