package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Path is the route of the receiver, under /api/v1.
const Path = "/usage/prometheus/write"

// Routes registers POST /usage/prometheus/write on g, a group needing the
// ingest scope (a Prometheus sends its token with remote_write's
// authorization section). Nothing is registered when the receiver is
// disabled.
func (c *Component) Routes(g gin.IRoutes) {
	if !c.cfg.Enabled {
		return
	}
	g.POST(Path, c.handleWrite)
}

// handleWrite answers as the remote-write specifications ask: 204 once
// stored; 4xx, which senders do not retry, for a request that will never
// be stored (415 unknown message or encoding, 413 too large, 400
// malformed); 5xx, which they retry, when the store failed.
func (c *Component) handleWrite(ctx *gin.Context) {
	r := ctx.Request
	p, err := protocolOf(r.Header.Get("Content-Type"))
	if err == nil {
		err = checkEncoding(r.Header.Get("Content-Encoding"))
	}
	if err != nil {
		c.refuse(ctx, err)
		return
	}
	if r.ContentLength > c.cfg.MaxBodyBytes {
		c.refuse(ctx, errTooLargeBody(r.ContentLength, c.cfg.MaxBodyBytes))
		return
	}
	buf := c.getBuf()
	defer c.putBuf(buf)
	body, err := readBody(http.MaxBytesReader(ctx.Writer, r.Body, c.cfg.MaxBodyBytes), buf.body)
	buf.body = body
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			c.refuse(ctx, errTooLargeBody(-1, c.cfg.MaxBodyBytes))
			return
		}
		// The client went away or sent less than announced.
		c.refuse(ctx, errors.Join(errInvalid, err))
		return
	}
	raw, err := decompress(body, buf.raw, c.cfg.MaxDecodedBytes)
	if raw != nil {
		buf.raw = raw
	}
	if err != nil {
		c.refuse(ctx, err)
		return
	}
	res, err := c.ingest(r.Context(), p, raw)
	if err != nil {
		c.refuse(ctx, err)
		return
	}
	c.metrics.requests.WithLabelValues(strconv.Itoa(int(p))).Inc()
	if p == 2 {
		// Every sample is accounted for: stored, or left out on purpose
		// (other metrics, duplicates), which a retry would not change.
		ctx.Header(headerSamplesWritten, strconv.Itoa(res.Samples))
		ctx.Header(headerHistogramsWritten, "0")
		ctx.Header(headerExemplarsWritten, "0")
	}
	ctx.Status(http.StatusNoContent)
}

// refuse answers err with its status and counts it.
func (c *Component) refuse(ctx *gin.Context, err error) {
	status, reason := http.StatusInternalServerError, refusedStore
	switch {
	case errors.Is(err, errTooLarge):
		status, reason = http.StatusRequestEntityTooLarge, refusedTooLarge
	case errors.Is(err, errMediaType):
		status, reason = http.StatusUnsupportedMediaType, refusedMediaType
	case errors.Is(err, errEncoding):
		status, reason = http.StatusUnsupportedMediaType, refusedEncoding
	case errors.Is(err, errNotSnappy):
		status, reason = http.StatusBadRequest, refusedNotSnappy
	case errors.Is(err, errNotProtobuf):
		status, reason = http.StatusBadRequest, refusedNotProtobuf
	case errors.Is(err, errInvalid):
		status, reason = http.StatusBadRequest, refusedInvalid
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		if !errors.Is(err, errStore) {
			status, reason = http.StatusServiceUnavailable, refusedBusy
		}
	}
	c.metrics.refused.WithLabelValues(reason).Inc()
	if status >= 500 {
		c.warn(err)
	}
	ctx.Header(headerVersion, headerVersionV1)
	ctx.String(status, "%s\n", err.Error())
}

// warn logs a failed store at most once a minute: a sender retries every
// few seconds, and the counters carry the rate.
func (c *Component) warn(err error) {
	now := time.Now()
	c.logMu.Lock()
	due := now.Sub(c.lastLog) >= time.Minute
	if due {
		c.lastLog = now
	}
	c.logMu.Unlock()
	if due {
		c.deps.Logger.Warn("usage: remote-write request not stored; the sender will retry it", "err", err)
	}
}

func errTooLargeBody(n, limit int64) error {
	if n < 0 {
		return fmt.Errorf("%w: the body is over max_body_bytes (%d); send smaller batches (queue_config.max_samples_per_send)", errTooLarge, limit)
	}
	return fmt.Errorf("%w: the body has %d bytes, over max_body_bytes (%d); send smaller batches (queue_config.max_samples_per_send)", errTooLarge, n, limit)
}

// readBody reads r into buf (reused across requests).
func readBody(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// buffers are the reusable body buffers of one request.
type buffers struct{ body, raw []byte }

func (c *Component) getBuf() *buffers {
	if b, ok := c.bufs.Get().(*buffers); ok {
		return b
	}
	return &buffers{}
}

// putBuf keeps buffers up to 4 MiB: a rare huge request should not pin
// its memory forever.
func (c *Component) putBuf(b *buffers) {
	if cap(b.body) > 4<<20 || cap(b.raw) > 4<<20 {
		return
	}
	c.bufs.Put(b)
}
