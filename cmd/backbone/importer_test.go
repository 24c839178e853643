package main

import "testing"

func TestCents(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"2500000", 250000000, true},
		{"1,200,000", 120000000, true},
		{"$5", 500, true},
		{"1234.5", 123450, true},
		{"0.07", 7, true},
		{"1,2,3", 0, false},
		{"12,34", 0, false},
		{"1.234", 0, false},
		{"-5", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := cents(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("cents(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
