package http_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/backbone-ci/backbone/domain"
	api "github.com/backbone-ci/backbone/http"
	"github.com/backbone-ci/backbone/internal/tacoma"
	"github.com/backbone-ci/backbone/internal/testenv"
	"github.com/backbone-ci/backbone/projections"
)

// tacomaServer is the API on the real scorecard read model, fed by its
// projector from an embedded JetStream holding examples/tacoma.
type tacomaServer struct {
	t    *testing.T
	url  string
	last uint64 // the sequence of the dataset's last event
}

func newTacomaServer(t *testing.T) *tacomaServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, _ := testenv.Store(t)
	pool, _ := testenv.Pool(t)
	if err := projections.Migrate(ctx, pool, projections.ScorecardSchema); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	projector := projections.NewProjector(pool, store.JetStream(), store.StreamName(),
		projections.NewScorecard(""), projections.Config{Logger: log, MaxWait: time.Second})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = projector.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	commands := &domain.Commands{Store: store}
	last, err := tacoma.Load(ctx, commands, domain.Meta{Actor: "test:tacoma"},
		filepath.Join("..", "examples", "tacoma"))
	if err != nil {
		t.Fatalf("load the Tacoma dataset: %v", err)
	}
	reads := projections.NewReader(pool, "")
	srv := api.New(api.Config{Commands: commands, Reads: reads, StrategyMaps: reads,
		Auth: fakeAuth{}, Logger: log, AfterWait: 20 * time.Second})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &tacomaServer{t: t, url: hs.URL, last: last}
}

// get reads path once the read model holds the whole dataset.
func (s *tacomaServer) get(path string) (*http.Response, []byte) {
	s.t.Helper()
	res, err := http.Get(s.url + path + "?after=" + strconv.FormatUint(s.last, 10))
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %s %s", path, res.Status, body)
	}
	return res, body
}

func (s *tacomaServer) getJSON(path string, v any) {
	s.t.Helper()
	_, body := s.get(path)
	if err := json.Unmarshal(body, v); err != nil {
		s.t.Fatalf("GET %s: decode: %v", path, err)
	}
}

// TestStrategyMapRoutes: Tacoma's map as JSON and as a picture that parses as
// XML and names every objective of the map.
func TestStrategyMapRoutes(t *testing.T) {
	t.Parallel()
	s := newTacomaServer(t)
	issue := tacoma.ID("issue_id", "I01").String()

	var m domain.StrategyMap
	s.getJSON("/api/v1/issues/"+issue+"/strategy-map", &m)
	t.Run("the JSON map has four bands and Tacoma's links", func(t *testing.T) {
		var bands []string
		objectives := 0
		for _, b := range m.Bands {
			bands = append(bands, string(b.Perspective))
			objectives += len(b.Objectives)
		}
		if strings.Join(bands, ",") != "results,stakeholders,processes,resources" ||
			objectives != 14 || len(m.Links) != 8 {
			t.Errorf("bands %q with %d objectives and %d links; want four, 14 and 8",
				bands, objectives, len(m.Links))
		}
		o04 := tacoma.ID("objective_id", "O04")
		if o := m.Bands[0].Objectives[3]; o.ID != o04 || o.Status != domain.OnTrack {
			t.Errorf("the fourth result = %+v, want O04 on track", o)
		}
	})

	t.Run("the picture parses as XML and names every objective", func(t *testing.T) {
		res, body := s.get("/api/v1/issues/" + issue + "/strategy-map.svg")
		if ct := res.Header.Get("Content-Type"); ct != "image/svg+xml" {
			t.Errorf("Content-Type %q, want image/svg+xml", ct)
		}
		drawn := objectivesDrawn(t, body)
		for _, b := range m.Bands {
			for _, o := range b.Objectives {
				if !drawn[o.Title] {
					t.Errorf("the picture lacks objective %q", o.Title)
				}
			}
		}
		if len(drawn) != 14 {
			t.Errorf("%d objectives drawn, want 14", len(drawn))
		}
	})

	for _, path := range []string{"/api/v1/issues/" + uuid.NewString() + "/strategy-map",
		"/api/v1/issues/" + uuid.NewString() + "/strategy-map.svg",
		"/api/v1/issues/not-an-id/strategy-map.svg"} {
		t.Run("404 for "+path, func(t *testing.T) {
			res, err := http.Get(s.url + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNotFound ||
				res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s, want 404 as a problem", res.Status, res.Header.Get("Content-Type"))
			}
		})
	}
}

// objectivesDrawn parses an SVG document and returns the titles of the
// objectives it draws: the first line of each objective box's <title>.
func objectivesDrawn(t *testing.T, svg []byte) map[string]bool {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	drawn := map[string]bool{}
	inObjective, inTitle := 0, false
	var title strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return drawn
		}
		if err != nil {
			t.Fatalf("the SVG does not parse as XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if inObjective > 0 {
				inObjective++
			}
			if el.Name.Local == "g" && attr(el, "class") == "objective" {
				inObjective = 1
			}
			inTitle = inObjective == 2 && el.Name.Local == "title"
		case xml.CharData:
			if inTitle {
				title.Write(el)
			}
		case xml.EndElement:
			if inTitle {
				first, _, _ := strings.Cut(title.String(), "\n")
				drawn[first] = true
				title.Reset()
				inTitle = false
			}
			if inObjective > 0 {
				inObjective--
			}
		}
	}
}

func attr(el xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
