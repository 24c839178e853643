package tacoma

import "testing"

func TestCents(t *testing.T) {
	for in, want := range map[string]int64{"2500000": 250_000_000, "1234.5": 123_450,
		"0.07": 7, "12": 1200} {
		if got, err := Cents(in); err != nil || got != want {
			t.Errorf("Cents(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1.234", "-5", "$5", "1e6", ".5"} {
		if got, err := Cents(in); err == nil {
			t.Errorf("Cents(%q) = %d, want an error", in, got)
		}
	}
}
