package alerting

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/furrowdev/furrow/config"
)

// SlackConfiguration is how furrow talks to Slack (alerting.slack).
type SlackConfiguration struct {
	// APIURL is Slack's Web API base URL; tests point it at a local server.
	APIURL string `yaml:"api_url" validate:"required,url"`
	// Token is the bot token (xoxb-…) posting messages; prefer TokenFile.
	Token config.Secret `yaml:"token"`
	// TokenFile is a file holding the bot token (read at start, trimmed).
	TokenFile string `yaml:"token_file"`
	// SigningSecret verifies that interactions (snooze buttons) come from
	// Slack; prefer SigningSecretFile.
	SigningSecret config.Secret `yaml:"signing_secret"`
	// SigningSecretFile is a file holding the signing secret.
	SigningSecretFile string `yaml:"signing_secret_file"`
	// Timeout bounds one Web API call.
	Timeout time.Duration `yaml:"timeout" validate:"min=0"`
}

// DefaultSlackConfiguration returns Slack's public API and a 10 s timeout.
func DefaultSlackConfiguration() SlackConfiguration {
	return SlackConfiguration{APIURL: "https://slack.com/api/", Timeout: 10 * time.Second}
}

// Validate checks the URL and that each secret has one source only.
func (c SlackConfiguration) Validate() error {
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("alerting.slack.api_url %q: want an http(s) URL such as https://slack.com/api/", c.APIURL)
	}
	if c.Token != "" && c.TokenFile != "" {
		return errors.New("alerting.slack: set token or token_file, not both")
	}
	if c.SigningSecret != "" && c.SigningSecretFile != "" {
		return errors.New("alerting.slack: set signing_secret or signing_secret_file, not both")
	}
	if c.Timeout < 0 {
		return errors.New("alerting.slack.timeout: must not be negative")
	}
	return nil
}

// ResolveSecrets returns the token and signing secret, reading the files
// when configured. Errors name the file, never its content.
func (c SlackConfiguration) ResolveSecrets() (token, signingSecret config.Secret, err error) {
	token, signingSecret = c.Token, c.SigningSecret
	if c.TokenFile != "" {
		b, err := os.ReadFile(c.TokenFile)
		if err != nil {
			return "", "", fmt.Errorf("alerting.slack.token_file: %w", err)
		}
		token = config.Secret(strings.TrimSpace(string(b)))
	}
	if c.SigningSecretFile != "" {
		b, err := os.ReadFile(c.SigningSecretFile)
		if err != nil {
			return "", "", fmt.Errorf("alerting.slack.signing_secret_file: %w", err)
		}
		signingSecret = config.Secret(strings.TrimSpace(string(b)))
	}
	return token, signingSecret, nil
}

// Slack posts, updates and threads messages through slack-go's client.
// It does not retry: the outbox does, asking Retryable what a failure means.
type Slack struct {
	client *slack.Client
	token  string
}

// NewSlack returns a deliverer using token against cfg.APIURL. It makes no
// call until the first delivery.
func NewSlack(cfg SlackConfiguration, token config.Secret) *Slack {
	api := cfg.APIURL
	if !strings.HasSuffix(api, "/") {
		api += "/"
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultSlackConfiguration().Timeout
	}
	return &Slack{
		client: slack.New(token.Reveal(),
			slack.OptionAPIURL(api),
			slack.OptionHTTPClient(&http.Client{Timeout: timeout})),
		token: token.Reveal(),
	}
}

// Post sends a new message and returns its timestamp, the id Update and
// Reply need (with the channel id PostTo returns).
func (s *Slack) Post(ctx context.Context, channel string, blocks []slack.Block, text string) (ts string, err error) {
	_, ts, err = s.PostTo(ctx, channel, blocks, text)
	return ts, err
}

// PostTo is Post returning also the channel's id: chat.update wants the
// id, and channel may have been given by name.
func (s *Slack) PostTo(ctx context.Context, channel string, blocks []slack.Block, text string) (channelID, ts string, err error) {
	channelID, ts, err = s.client.PostMessageContext(ctx, channel,
		slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(text, false))
	if err != nil {
		return "", "", s.wrap("chat.postMessage", channel, err)
	}
	return channelID, ts, nil
}

// DeliveryEventType is the metadata event type of the messages furrow
// posts; the payload's delivery_id is the outbox's dedup key, by which an
// interrupted delivery finds its message (FindDelivery).
const DeliveryEventType = "furrow_alert_delivery"

// PostDelivery posts a message (in the thread of threadTS when set)
// carrying deliveryID as message metadata, and returns the channel's id
// and the message's ts.
func (s *Slack) PostDelivery(ctx context.Context, channel string, blocks []slack.Block, text, threadTS, deliveryID string) (channelID, ts string, err error) {
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	if deliveryID != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: DeliveryEventType,
			EventPayload: map[string]any{"delivery_id": deliveryID}}))
	}
	channelID, ts, err = s.client.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", "", s.wrap("chat.postMessage", channel, err)
	}
	return channelID, ts, nil
}

// findPages bounds how far FindDelivery reads back (200 messages a page).
const findPages = 25

// FindDelivery looks in a channel (in the thread of threadTS when set) for
// the message carrying deliveryID posted since since, and returns its ts.
// It needs the channels:history scope (groups:history for private
// channels).
func (s *Slack) FindDelivery(ctx context.Context, channelID, threadTS string, since time.Time, deliveryID string) (ts string, found bool, err error) {
	oldest := fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	cursor := ""
	for range findPages {
		var msgs []slack.Message
		var next, method string
		if threadTS != "" {
			method = "conversations.replies"
			msgs, _, next, err = s.client.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channelID, Timestamp: threadTS, Oldest: oldest, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
		} else {
			method = "conversations.history"
			var r *slack.GetConversationHistoryResponse
			r, err = s.client.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: channelID, Oldest: oldest, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
			if r != nil {
				msgs, next = r.Messages, r.ResponseMetaData.NextCursor
			}
		}
		if err != nil {
			return "", false, s.wrap(method, channelID, err)
		}
		for _, m := range msgs {
			if m.Metadata.EventType == DeliveryEventType && fmt.Sprint(m.Metadata.EventPayload["delivery_id"]) == deliveryID {
				return m.Timestamp, true, nil
			}
		}
		if next == "" {
			return "", false, nil
		}
		cursor = next
	}
	return "", false, nil
}

// ChannelID resolves a channel's name (with or without #) to its id with
// conversations.list (channels:read, groups:read); an id is returned as is.
func (s *Slack) ChannelID(ctx context.Context, name string) (string, error) {
	if looksLikeChannelID(name) {
		return name, nil
	}
	want := strings.TrimPrefix(name, "#")
	cursor := ""
	for range findPages {
		chans, next, err := s.client.GetConversationsContext(ctx, &slack.GetConversationsParameters{
			Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: 1000, Cursor: cursor})
		if err != nil {
			return "", s.wrap("conversations.list", name, err)
		}
		for _, c := range chans {
			if c.Name == want {
				return c.ID, nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return "", &SlackError{Method: "conversations.list", Channel: name, Code: "channel_not_found", msg: "channel_not_found"}
}

// looksLikeChannelID: Slack's conversation ids are C…, G… or D… in
// upper-case letters and digits.
func looksLikeChannelID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// NotPosted reports whether a failed post certainly did not post: Slack
// answered, with 429 or ok:false. Other failures (a timeout, a cut
// connection, a proxy's 5xx) may have posted.
func NotPosted(err error) bool {
	var e *SlackError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "":
		return e.Status == http.StatusTooManyRequests
	case "internal_error", "fatal_error":
		return false // Slack failed somewhere: perhaps after posting
	}
	return true
}

// Update replaces the message at ts (a resolve updates the firing message).
func (s *Slack) Update(ctx context.Context, channel, ts string, blocks []slack.Block, text string) error {
	_, _, _, err := s.client.UpdateMessageContext(ctx, channel, ts,
		slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(text, false))
	if err != nil {
		return s.wrap("chat.update", channel, err)
	}
	return nil
}

// Reply posts text in the thread of the message at threadTS.
func (s *Slack) Reply(ctx context.Context, channel, threadTS, text string) error {
	_, _, err := s.client.PostMessageContext(ctx, channel,
		slack.MsgOptionText(text, false), slack.MsgOptionTS(threadTS))
	if err != nil {
		return s.wrap("chat.postMessage", channel, err)
	}
	return nil
}

// AuthTest checks the token, returning the bot's user id.
func (s *Slack) AuthTest(ctx context.Context) (userID string, err error) {
	r, err := s.client.AuthTestContext(ctx)
	if err != nil {
		return "", s.wrap("auth.test", "", err)
	}
	return r.UserID, nil
}

// SlackError is a failed Web API call. Its message never holds the token:
// net/http's errors (which quote the URL) are replaced by their cause and
// the token is scrubbed from whatever text remains.
type SlackError struct {
	Method  string
	Channel string
	// Code is Slack's error ("channel_not_found") for ok:false answers.
	Code string
	// Status is the HTTP status for non-200 answers, 0 otherwise.
	Status     int
	RetryAfter time.Duration
	retry      bool
	msg        string
	cause      error
}

func (e *SlackError) Error() string {
	where := "slack " + e.Method
	if e.Channel != "" {
		where += " " + e.Channel
	}
	return where + ": " + e.msg
}

// Unwrap gives the typed cause (slack-go's error, a net.Error,
// context.Canceled…), never one that prints the token.
func (e *SlackError) Unwrap() error { return e.cause }

func (s *Slack) wrap(method, channel string, err error) error {
	e := &SlackError{Method: method, Channel: channel}
	var (
		rl   *slack.RateLimitedError
		sc   slack.StatusCodeError
		ser  slack.SlackErrorResponse
		uerr *url.Error
		nerr net.Error
	)
	switch {
	case errors.As(err, &rl):
		e.Status, e.RetryAfter, e.retry, e.cause = http.StatusTooManyRequests, rl.RetryAfter, true, rl
	case errors.As(err, &sc):
		e.Status, e.cause = sc.Code, sc
		e.retry = sc.Code >= 500 || sc.Code == http.StatusTooManyRequests
		if sc.Code == http.StatusTooManyRequests {
			e.RetryAfter = time.Second // Slack always says how long; be modest when it does not
		}
	case errors.As(err, &ser):
		e.Code, e.cause = ser.Err, ser
		// Slack answers ok:false for errors in the request (bad channel,
		// bad token, bad blocks): sending it again fails again, except
		// for these.
		switch ser.Err {
		case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			e.retry = true
		}
	case errors.Is(err, context.Canceled):
		e.cause = context.Canceled
	case errors.As(err, &uerr):
		// url.Error prints the URL; keep only what went wrong.
		e.cause, e.retry = uerr.Err, true
	case errors.As(err, &nerr):
		e.cause, e.retry = nerr, true
	default:
		// A body that is not JSON (a proxy's error page) or a cut
		// connection: worth another try.
		e.cause, e.retry = err, true
	}
	e.msg = e.cause.Error()
	if s.token != "" {
		e.msg = strings.ReplaceAll(e.msg, s.token, "<secret>")
		e.Code = strings.ReplaceAll(e.Code, s.token, "<secret>")
		if strings.Contains(e.cause.Error(), s.token) {
			// The cause cannot be trusted to print safely.
			e.cause = errors.New(e.msg)
		}
	}
	return e
}

// Retryable says whether a failed delivery is worth another try, and after
// how long: Slack's Retry-After for a 429; zero for 5xx and network errors,
// meaning the caller's exponential backoff decides; false for other 4xx
// and Slack's ok:false errors (channel_not_found, invalid_auth…), which
// another try would not fix.
func Retryable(err error) (retry bool, after time.Duration) {
	if err == nil {
		return false, 0
	}
	var e *SlackError
	if errors.As(err, &e) {
		return e.retry, e.RetryAfter
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return true, rl.RetryAfter
	}
	if errors.Is(err, context.Canceled) {
		return false, 0
	}
	return true, 0
}
